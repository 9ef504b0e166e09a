"""The array engine (domain.batch) decides exactly as the rules (domain.resolution), on random
carts: which rows count (validity, matrix prices replaced by contract rows), then the price."""

import random
from datetime import date
from decimal import Decimal

import numpy as np

from services.pricing.domain.batch import (
    CLIENT,
    FLOOR,
    LADDER,
    NO_PRICE,
    PROMOTION,
    Adjustments,
    Candidates,
    decide,
    origin_key,
    usable_candidates,
)
from services.pricing.domain.resolution import Candidate, Discount, Source, resolve_line, rule_of

DAY = date(2026, 11, 23)
ORIGINS = [  # (source, priority, rank, code, from the client's matrix list)
    (Source.CONTRACT, 0, 0, "contract", False),
    (Source.CONTRACT, 0, 0, "contract", True),
    (Source.ASSIGNED_LIST, 5, 1, "A-HIGH", False),
    (Source.ASSIGNED_LIST, 1, 2, "B-LOW", False),
    (Source.ASSIGNED_LIST, 1, 3, "C-LOW", False),
    (Source.GROUP_LIST, 0, 4, "GROUP", False),
    (Source.BASE_LIST, 0, 5, "BASE", False),
]


def random_cart(rng: random.Random, lines: int):
    quantities, rows, adjustments = [], [], []
    for line in range(lines):
        quantities.append(Decimal(rng.choice([1, 5, 10, 99, 100, 250])) / rng.choice([1, 4]))
        for origin in rng.sample(ORIGINS, rng.randint(0, len(ORIGINS))):
            for min_qty in rng.sample([1, 10, 50, 100, 500], rng.randint(1, 3)):
                live = rng.random() < 0.8  # else it ended yesterday
                rows.append((line, origin, Decimal(min_qty), rng.randint(100, 100_000), live))
        adjustments.append(
            (
                rng.choice([0, 0, 250, 500, 1250]),
                rng.choice([0, 300]),
                rng.choice([0, 0, 1000]),
                rng.choice([NO_PRICE, NO_PRICE, rng.randint(100, 100_000)]),
            )
        )
    return quantities, rows, adjustments


def test_batch_equals_line_rules_on_random_carts():
    rng = random.Random(20261123)
    for _ in range(40):
        quantities, rows, adjustments = random_cart(rng, 60)
        line = np.array([r[0] for r in rows], np.int64)
        source = np.array([r[1][0] for r in rows], np.int64)
        min_qty = np.array([int(r[2] * 1000) for r in rows], np.int64)
        live = np.array([r[4] for r in rows], bool)
        counted = usable_candidates(
            line, source, min_qty, np.array([r[1][4] for r in rows], bool), live
        )
        decided = decide(
            np.array([int(q * 1000) for q in quantities], np.int64),
            Candidates(
                line=line[counted],
                key=origin_key(source, [r[1][1] for r in rows], [r[1][2] for r in rows])[counted],
                min_qty=min_qty[counted],
                price=np.array([r[3] for r in rows], np.int64)[counted],
            ),
            Adjustments(*(np.array(column, np.int64) for column in zip(*adjustments, strict=True))),
        )
        labels = {
            0: None,
            CLIENT: "client_discount:x",
            LADDER: "ladder:x",
            PROMOTION: "promotion:x",
        }
        for at_line, quantity in enumerate(quantities):
            client_bp, ladder_bp, promotion_bp, floor = adjustments[at_line]
            expected = resolve_line(
                "SKU",
                quantity,
                day=DAY,
                currency="EUR",
                candidates=[
                    Candidate(src, code, prio, qty, price, "EUR", None, None if ok else DAY, matrix)
                    for at, (src, prio, _, code, matrix), qty, price, ok in rows
                    if at == at_line
                ],
                client_discount=Discount("client_discount", Decimal(client_bp) / 100, "x"),
                ladder_discount=Discount("ladder", Decimal(ladder_bp) / 100, "x"),
                promotion=Discount("promotion", Decimal(promotion_bp) / 100, "x"),
                floor_minor=None if floor == NO_PRICE else floor,
            )
            replaced = (line == at_line) & live & ~counted
            assert int(replaced.sum()) == len(expected.replaced)
            assert all(c.from_matrix for c in expected.replaced)
            unit = int(decided.unit_price[at_line])
            assert (None if unit == NO_PRICE else unit) == expected.unit_price_minor
            listed = int(decided.list_price[at_line])
            assert (None if listed == NO_PRICE else listed) == expected.list_price_minor
            base = int(decided.base_price[at_line])
            assert (None if base == NO_PRICE else base) == expected.base_price_minor
            next_tier = (
                None
                if decided.next_qty[at_line] < 0
                else (
                    Decimal(int(decided.next_qty[at_line])) / 1000,
                    int(decided.next_price[at_line]),
                )
            )
            assert next_tier == expected.next_tier
            if expected.unit_price_minor is not None:
                step = int(decided.last_step[at_line])
                if step == FLOOR:
                    assert expected.rule == "floor"
                elif step:
                    assert expected.rule == labels[step]
                else:
                    winner = next(o for o in ORIGINS if rule_of(o[0], o[3]) == expected.rule)
                    assert decided.key[at_line] == origin_key(winner[0], winner[1], winner[2])
