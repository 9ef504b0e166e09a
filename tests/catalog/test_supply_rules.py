"""The availability rules (domain.supply) as plain functions: no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.catalog.domain.supply import (
    Asked,
    BatchRule,
    LineProblem,
    Supply,
    SupplyTerms,
    availability,
    production,
)

DAY = date(2028, 2, 28)
ROLLED = SupplyTerms(
    unit="m",
    precision=1,
    supply=Supply.MADE_TO_ORDER,
    lead_time_days=10,
    min_batch=Decimal("100"),
    batch_multiple=Decimal("25"),
)


def test_a_production_quantity_is_raised_to_the_minimum_batch_then_the_multiple():
    cases = {
        "30": ("100.0", [BatchRule.MIN_BATCH]),  # 100 is a multiple of 25
        "101": ("125.0", [BatchRule.BATCH_MULTIPLE]),
        "150": ("150.0", []),
        "150.5": ("175.0", [BatchRule.BATCH_MULTIPLE]),
    }
    for needed, (quantity, rules) in cases.items():
        made = production(ROLLED, Decimal(needed), DAY)
        assert (str(made.quantity), made.rounded_by) == (quantity, rules), needed
        assert made.ready_on == date(2028, 3, 9)  # ten days on, over the leap day

    odd = SupplyTerms("m", 1, Supply.MADE_TO_ORDER, lead_time_days=0, min_batch=Decimal(110))
    made = production(odd, Decimal("5"), DAY)
    assert (made.quantity, made.rounded_by, made.ready_on) == (
        Decimal("110.0"),
        [BatchRule.MIN_BATCH],
        DAY,
    )
    pieces = SupplyTerms("pcs", 0, Supply.BOTH, lead_time_days=3, min_batch=Decimal(40))
    both = production(pieces, Decimal("50"), DAY)
    assert (both.quantity, both.rounded_by) == (Decimal(50), [])


def test_both_ships_stock_first_from_the_preferred_warehouse_and_produces_the_rest():
    terms = {
        "B-1": SupplyTerms("pcs", 0, Supply.BOTH, lead_time_days=5, batch_multiple=Decimal(10))
    }
    stock = {("B-1", "MSK"): Decimal(8), ("B-1", "SPB"): Decimal(3)}
    line, second = availability(
        [Asked("B-1", Decimal(10)), Asked("B-1", Decimal(4))],
        terms,
        stock,
        set(),
        DAY,
        preferred="SPB",
    )
    assert line.from_stock == [("SPB", Decimal(3)), ("MSK", Decimal(7))]
    assert (line.production, line.ready_on, line.stock_ready_on) == (None, DAY, DAY)
    # The first line took 10 of 11: the second gets the last one and 3 produced, in tens.
    assert second.from_stock == [("MSK", Decimal(1))]
    assert (second.production.needed, second.production.quantity) == (Decimal(3), Decimal(10))
    assert second.ready_on == date(2028, 3, 4)


def test_a_stock_only_line_short_of_stock_says_so_and_takes_nothing():
    terms = {"S-1": SupplyTerms("pcs", 0)}
    stock = {("S-1", "MSK"): Decimal(5)}
    short, fits = availability(
        [Asked("S-1", Decimal(6)), Asked("S-1", Decimal(5))], terms, stock, set(), DAY
    )
    assert (short.problem, short.message) == (LineProblem.SHORT, "only 5 of S-1 available")
    assert (short.from_stock, short.ready_on) == ([], None)
    assert (fits.problem, fits.from_stock) == (None, [("MSK", Decimal(5))])


def test_lines_that_cannot_be_served_say_why():
    terms = {
        "S-1": SupplyTerms("pcs", 0),
        "OLD": SupplyTerms("pcs", 0, active=False),
    }
    stock = {("S-1", "MSK"): Decimal(5)}
    answers = availability(
        [
            Asked("NOPE", Decimal(1)),
            Asked("S-1", Decimal(1), warehouse="MARS"),
            Asked("OLD", Decimal(1)),
            Asked("S-1", Decimal("1.5")),
            Asked("S-1", Decimal(1), warehouse="MSK"),
        ],
        terms,
        stock,
        {"MSK"},
        DAY,
    )
    assert [(a.row, a.problem) for a in answers] == [
        (1, LineProblem.UNKNOWN_SKU),
        (2, LineProblem.UNKNOWN_WAREHOUSE),
        (3, LineProblem.DISCONTINUED),
        (4, LineProblem.TOO_PRECISE),
        (5, None),
    ]
