"""Price resolution and ladders as plain rules (no server, no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.pricing.domain.ladder import Level, progress
from services.pricing.domain.resolution import Candidate, Discount, Source, resolve_line

TODAY = date(2026, 11, 23)
D = Decimal


def price(
    source, origin, min_qty, minor, *, priority=0, currency="EUR", valid_from=None, valid_to=None
):
    return Candidate(source, origin, priority, D(min_qty), minor, currency, valid_from, valid_to)


BASE = [price(Source.BASE_LIST, "base", 1, 10_000), price(Source.BASE_LIST, "base", 100, 9_000)]


def resolve(candidates, qty="1", **kwargs):
    return resolve_line("SKU-1", D(qty), day=TODAY, currency="EUR", candidates=candidates, **kwargs)


def test_precedence_contract_then_assigned_by_priority_then_group_then_base():
    assigned_low = price(Source.ASSIGNED_LIST, "dealers", 1, 9_500, priority=1)
    assigned_high = price(Source.ASSIGNED_LIST, "project-x", 1, 9_700, priority=5)
    group = price(Source.GROUP_LIST, "group-a", 1, 9_800)
    contract = price(Source.CONTRACT, "contract", 1, 8_000)
    assert resolve([*BASE]).rule == "base_list:base"
    assert resolve([*BASE, group]).rule == "group_list:group-a"
    assert resolve([*BASE, group, assigned_low, assigned_high]).unit_price_minor == 9_700
    line = resolve([*BASE, group, assigned_low, assigned_high, contract])
    assert (line.unit_price_minor, line.rule) == (8_000, "contract")
    assert {loser.origin for loser in line.losers} == {"base", "group-a", "dealers", "project-x"}
    assert all(loser.reason == "contract comes first" for loser in line.losers)


def test_tiers_pick_the_highest_reached_and_name_the_next():
    low = resolve(BASE, qty="99.5")
    high = resolve(BASE, qty="100")
    assert (low.unit_price_minor, low.next_tier) == (10_000, (D(100), 9_000))
    assert (high.unit_price_minor, high.next_tier) == (9_000, None)


def test_validity_today_counts_and_tomorrows_price_waits():
    tomorrow = price(Source.CONTRACT, "contract", 1, 7_000, valid_from=date(2026, 11, 24))
    ended = price(Source.ASSIGNED_LIST, "old", 1, 6_000, valid_to=TODAY)
    starts_today = price(Source.GROUP_LIST, "group-a", 1, 9_900, valid_from=TODAY)
    line = resolve([*BASE, tomorrow, ended, starts_today])
    assert line.rule == "group_list:group-a"
    reasons = {loser.origin: loser.reason for loser in line.losers}
    assert (
        reasons["contract"] == "not valid on 2026-11-23"
        and reasons["old"] == "not valid on 2026-11-23"
    )


def test_other_currency_never_applies_and_no_candidate_means_no_price():
    line = resolve([price(Source.CONTRACT, "contract", 1, 100, currency="USD")])
    assert line.unit_price_minor is None and line.losers[0].reason == "priced in USD"


def test_discounts_stack_on_list_prices_not_on_contracts_and_floor_clamps():
    discounts = {
        "client_discount": Discount("client", D(10), "brand ACME"),
        "ladder_discount": Discount("ladder", D(5), "gold"),
        "promotion": Discount("promotion", D("2.5"), "november"),
    }
    listed = resolve(BASE, **discounts)
    assert listed.unit_price_minor == 8_336  # 10000 * 0.9 * 0.95 * 0.975 = 8336.25
    assert [s.rule for s in listed.steps] == [
        "base_list:base",
        "client:brand ACME",
        "ladder:gold",
        "promotion:november",
    ]
    contract = resolve([*BASE, price(Source.CONTRACT, "contract", 1, 8_000)], **discounts)
    assert contract.unit_price_minor == 8_000
    floored = resolve(BASE, floor_minor=8_500, **discounts)
    assert (floored.unit_price_minor, floored.rule, floored.list_price_minor) == (
        8_500,
        "floor",
        10_000,
    )
    # The next tier is shown as the client would pay it: 9000 less the same discounts,
    # and never under the floor.
    assert listed.next_tier == (D(100), 7_503)  # 9000 -> 8100 -> 7695 -> 7502.625, rounded
    assert floored.next_tier == (D(100), 8_500)


def test_a_matrix_price_gives_way_only_to_a_live_contract_row_of_its_tier():
    def matrix(min_qty, minor):
        return Candidate(Source.CONTRACT, "contract", 0, D(min_qty), minor, "EUR", from_matrix=True)

    group = price(Source.GROUP_LIST, "group-a", 1, 9_800)
    assigned = price(Source.ASSIGNED_LIST, "project-x", 1, 9_700, priority=5)
    # Lists pricing the same SKU and tier never replace the matrix price: they lose to it.
    line = resolve([*BASE, group, assigned, matrix(1, 9_871)], qty="100")
    assert (line.unit_price_minor, line.rule, line.replaced) == (9_871, "contract", [])
    assert {x.reason for x in line.losers} == {"contract comes first"}
    # The client's own row of the same tier does (the factoring's exception), while it is
    # valid; a contract row of another tier joins the matrix price as one more tier.
    exception = price(Source.CONTRACT, "contract", 1, 9_000)
    line = resolve([*BASE, matrix(1, 9_871), exception])
    assert (line.unit_price_minor, line.replaced) == (9_000, [matrix(1, 9_871)])
    ended = price(Source.CONTRACT, "contract", 1, 9_000, valid_to=TODAY)
    assert resolve([*BASE, matrix(1, 9_871), ended]).unit_price_minor == 9_871
    bulk = price(Source.CONTRACT, "contract", 50, 8_000)
    line = resolve([*BASE, matrix(1, 9_871), bulk], qty="10")
    assert (line.unit_price_minor, line.next_tier, line.replaced) == (9_871, (D(50), 8_000), [])


def test_quantity_below_every_tier_of_an_origin_falls_through():
    bulk_only = price(Source.ASSIGNED_LIST, "bulk", 50, 8_000)
    line = resolve([*BASE, bulk_only], qty="10")
    assert line.rule == "base_list:base"
    assert line.losers[0].reason == "needs at least 50"


def test_ladder_progress_next_level_and_retro_bonus():
    levels = [
        Level(1_000_000, D(2)),
        Level(5_000_000, D(3), bonus_percent=D(1)),
        Level(10_000_000, D(5), bonus_percent=D(2)),
    ]
    start = progress(0, levels)
    assert start.current is None and start.left_minor == 1_000_000 and start.bonus_minor == 0
    mid = progress(6_000_000, levels)
    assert mid.current == levels[1] and mid.next == levels[2] and mid.left_minor == 4_000_000
    assert mid.bonus_minor == 60_000
    top = progress(12_345_678, levels)
    assert top.next is None and top.left_minor is None and top.bonus_minor == 246_914
