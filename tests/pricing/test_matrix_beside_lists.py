"""A factored client matrix answers exactly what the file said, beside base, group and
assigned lists that price the same SKUs (issue 19: derived cells lost to the base list).

The world goes in as production gets it: lists through the policy API, their prices and
then a `scope=full` client matrix (open cells, tiers, dated rows, holes) through the feed
endpoint. Every cell is then resolved at quantities 1 and 10 and compared with what the
file and the lists say; a sample is explained.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from shared.clock import today
from shared.testing.fixtures import client
from tests.pricing.world import ADMIN, feed, fetch, seed_client, seed_skus

HEADER = "list,client,sku,min_qty,price_minor,currency,valid_from,valid_to,action\n"
SKUS = [f"M{s:02d}" for s in range(40)]
CLIENTS = 240
GROUP_A, GROUP_B = "G-A", "G-B"  # G-A has its own prices, G-B a list derived from BASE
QUANTITIES = (1, 10)

Tiers = dict[int, int]  # min_qty -> price


@dataclass
class Matrix:
    """What the feed and the lists say, and each client's place among the lists."""

    cells: dict[str, dict[str, int]] = field(default_factory=dict)  # open-ended, quantity 1
    tiers: dict[str, dict[str, int]] = field(default_factory=dict)  # at quantity 10
    dated: dict[str, dict[str, tuple[int, date, date | None]]] = field(default_factory=dict)
    base: dict[str, Tiers] = field(default_factory=dict)
    group_a: dict[str, Tiers] = field(default_factory=dict)
    promo: dict[str, Tiers] = field(default_factory=dict)  # assigned to some clients
    group: dict[str, str | None] = field(default_factory=dict)
    on_promo: set[str] = field(default_factory=set)

    def origins(self, name: str, sku: str) -> list[Tiers]:
        """The client's price rows of one SKU, strongest origin first, as the README orders
        them: its own (the file), its assigned list, its group's list, the base list."""
        own: Tiers = {}
        if sku in self.cells[name]:
            own[1] = self.cells[name][sku]
        if sku in self.dated[name]:
            price, start, end = self.dated[name][sku]
            if start <= today() and (end is None or today() < end):
                own[1] = price
        if sku in self.tiers[name]:
            own[10] = self.tiers[name][sku]
        group = {
            GROUP_A: self.group_a.get(sku, {}),
            GROUP_B: {q: (p * 9_500 + 5_000) // 10_000 for q, p in self.base[sku].items()},
            None: {},
        }[self.group[name]]
        promo = self.promo.get(sku, {}) if name in self.on_promo else {}
        return [own, promo, group, self.base[sku]]

    def expected(self, name: str, sku: str, quantity: int) -> int | None:
        for tiers in self.origins(name, sku):
            reached = [q for q in tiers if q <= quantity]
            if reached:
                return tiers[max(reached)]
        return None


def build(seed: int = 19) -> tuple[Matrix, str, str]:
    """Four price types with uniform percents, personal exceptions, holes, tiers, dated rows
    and a few unique clients; lists pricing every SKU (the base) or some (the others)."""
    rng = random.Random(seed)
    m = Matrix()
    for s, sku in enumerate(SKUS):
        price = rng.randint(5_000, 90_000)
        m.base[sku] = {1: price, 10: price * 9 // 10} if s % 4 == 0 else {1: price}
        if s < 20:
            m.group_a[sku] = {1: rng.randint(5_000, 90_000)}
        if s >= 30:
            m.promo[sku] = {1: rng.randint(5_000, 90_000)}
    types = [[rng.randint(100, 90_000) for _ in SKUS] for _ in range(4)]
    days = today()
    for c in range(CLIENTS):
        name = f"K{c}"
        m.group[name] = (GROUP_A, GROUP_B, None)[c % 3]
        if c % 10 == 0:
            m.on_promo.add(name)
        if c >= CLIENTS - 4:
            vector = [rng.randint(100, 90_000) for _ in SKUS]
        else:
            bp = rng.choice([0, 0, -300, 250, -1250])
            vector = [(p * (10_000 + bp) + 5_000) // 10_000 for p in types[c % 4]]
            for _ in range(rng.randint(0, 2)):
                vector[rng.randrange(len(SKUS))] = rng.randint(100, 90_000)
        m.cells[name] = dict(zip(SKUS, vector, strict=True))
        m.tiers[name], m.dated[name] = {}, {}
        if c % 7 == 3:  # a hole: the file gives this client no price for the SKU
            m.cells[name].pop(rng.choice(SKUS))
        if c % 5 == 1:  # a volume tier beside the cell (or beside a hole)
            m.tiers[name][rng.choice(SKUS)] = rng.randint(100, 90_000)
        if c % 6 == 2:  # a dated price where the client has no open-ended one
            sku = rng.choice(SKUS)
            m.cells[name].pop(sku, None)
            start, end = [
                (days - timedelta(days=5), days + timedelta(days=25)),
                (days - timedelta(days=60), days - timedelta(days=30)),
                (days + timedelta(days=10), None),
            ][c % 3]
            m.dated[name][sku] = (rng.randint(100, 90_000), start, end)
    lists = [f"BASE,,{s},{q},{p},EUR,,," for s, t in m.base.items() for q, p in t.items()]
    lists += [f"GROUP-A,,{s},1,{t[1]},EUR,,," for s, t in m.group_a.items()]
    lists += [f"PROMO,,{s},1,{t[1]},EUR,,," for s, t in m.promo.items()]
    rows = [f",{n},{s},1,{p},EUR,,," for n, row in m.cells.items() for s, p in row.items()]
    rows += [f",{n},{s},10,{p},EUR,,," for n, row in m.tiers.items() for s, p in row.items()]
    rows += [
        f",{n},{s},1,{p},EUR,{start},{end or ''},"
        for n, row in m.dated.items()
        for s, (p, start, end) in row.items()
    ]
    rng.shuffle(rows)
    return m, HEADER + "\n".join(lists) + "\n", HEADER + "\n".join(rows) + "\n"


@pytest.fixture
async def world(pricing):
    m, lists, matrix = build()
    await seed_skus(pricing, [(s, None, None) for s in SKUS])
    async with client(pricing, ADMIN) as http:
        for body in (
            {"code": "BASE", "currency": "EUR", "is_base": True},
            {"code": "GROUP-A", "currency": "EUR"},
            {"code": "GROUP-B", "currency": "EUR", "parent_code": "BASE", "markup_percent": -5},
            {"code": "PROMO", "currency": "EUR", "priority": 5},
        ):
            assert (await http.post("/price-lists", json=body)).status_code == 201
        for group, code in ((GROUP_A, "GROUP-A"), (GROUP_B, "GROUP-B")):
            put = await http.put(f"/client-groups/{group}/price-lists", json={"list_codes": [code]})
            assert put.status_code == 200, put.text
    ids = {
        name: await seed_client(pricing, external_id=name, group_code=m.group[name])
        for name in m.cells
    }
    async with client(pricing, ADMIN) as http:
        for name in sorted(m.on_promo):
            put = await http.put(
                f"/clients/{ids[name]}/price-lists", json={"list_codes": ["PROMO"]}
            )
            assert put.status_code == 200, put.text
    assert (await feed(pricing, lists))["state"] == "succeeded"
    job = await feed(pricing, matrix, scope="full")
    assert job["state"] == "succeeded", job
    return m, ids, job["result"]


async def test_every_cell_of_a_full_matrix_beside_lists_resolves_to_the_file(pricing, world):
    m, ids, result = world
    # The factoring stored every form a cell can take: derived lists, exceptions, gaps.
    assert result["derived_lists"] >= 4 and result["clients_on_derived_lists"] > CLIENTS / 2
    assert result["contract_rows"] > 0 and result["gaps"] > 0
    wrong = []
    async with client(pricing, ADMIN) as http:
        for name, company_id in ids.items():
            lines = [{"sku": s, "quantity": str(q)} for q in QUANTITIES for s in SKUS]
            answer = await http.post(
                "/prices/resolve", json={"client_id": str(company_id), "lines": lines}
            )
            assert answer.status_code == 200, answer.text
            for line in answer.json()["lines"]:
                quantity = int(float(line["quantity"]))
                want = m.expected(name, line["sku"], quantity)
                if line["unit_price_minor"] != want:
                    wrong.append((name, line["sku"], quantity, want, line))
    assert not wrong, f"{len(wrong)} of {len(ids) * len(SKUS) * 2} wrong, e.g. {wrong[:3]}"


async def test_explain_shows_the_file_price_winning_and_replaces_only_by_contract(pricing, world):
    m, ids, _ = world
    rng = random.Random(4456)
    sample = [(rng.choice(list(ids)), rng.choice(SKUS)) for _ in range(40)]
    # And exceptions of factored clients: the one case where a contract row replaces a
    # matrix-list price of the same tier.
    exceptions = await fetch(
        pricing,
        "SELECT c.external_id, s.sku FROM contract_prices p JOIN client_matrix x USING (client_id)"
        " JOIN clients c ON c.id = p.client_id JOIN skus s ON s.id = p.sku_id"
        " WHERE p.min_qty = 1 ORDER BY 1, 2 LIMIT 20",
    )
    assert exceptions
    replaced_any = False
    async with client(pricing, ADMIN) as http:
        for name, sku in [*sample, *exceptions]:
            for quantity in QUANTITIES:
                answer = await http.get(
                    "/prices/explain",
                    params={"client_id": str(ids[name]), "sku": sku, "quantity": quantity},
                )
                assert answer.status_code == 200, answer.text
                got = answer.json()
                assert got["unit_price_minor"] == m.expected(name, sku, quantity), (name, sku)
                own = {
                    c["min_qty"]
                    for c in got["candidates"]
                    if c["source"] == "contract" and not c["derived_from_matrix"]
                }
                for replaced in got["replaced_by_contract"]:
                    assert replaced["derived_from_matrix"] and replaced["min_qty"] in own
                    replaced_any = True
                if sku in m.cells[name] and quantity == 1:
                    assert got["rule"] == "contract"
                    assert {x["reason"] for x in got["losers"]} <= {"contract comes first"}
    assert replaced_any
