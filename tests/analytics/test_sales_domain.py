"""Sales figures on small hand-computed data: deals and add-ons, repeat figures, co-purchases,
pipeline conversion, key accounts, the team, loss reasons, retention payoff and funnels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from services.analytics.domain.concentration import concentration_level
from services.analytics.domain.deals import (
    SALES_ORDERS_SCHEMA,
    co_purchases,
    mark_deals,
    repeat_figures,
    retention_payoff,
)
from services.analytics.domain.funnels import (
    client_conversion,
    financial_funnel,
    pipeline_conversion,
    unit_funnel,
    upsell_funnel,
)
from services.analytics.domain.measures import ordinal
from services.analytics.domain.sales import key_accounts, loss_reasons, team_performance
from shared.fields import MAX_BIGINT

T0 = datetime(2026, 10, 1, 9, tzinfo=UTC)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def orders(*rows: dict) -> pl.DataFrame:
    base = {
        "currency": "EUR",
        "total_minor": 1000,
        "lines": 1,
        "need": None,
        "adds_to_order_id": None,
        "on_behalf": False,
        "delivered_minor": None,
    }
    return pl.DataFrame([{**base, **r} for r in rows], schema=SALES_ORDERS_SCHEMA)


def test_an_add_on_inside_the_window_joins_the_deal_and_one_outside_starts_a_new_deal():
    frame = orders(
        {"order_id": "o1", "client_id": "c", "placed_at": at(0)},
        # names o1, 5 days later: inside the 14-day window -> an add-on of o1's deal
        {"order_id": "o2", "client_id": "c", "placed_at": at(5), "adds_to_order_id": "o1"},
        # names o1, 20 days after it: outside -> a repeat deal of its own
        {"order_id": "o3", "client_id": "c", "placed_at": at(20), "adds_to_order_id": "o1"},
        # the same need as o3, 3 days later -> an add-on of o3's deal
        {"order_id": "o4", "client_id": "c", "placed_at": at(23), "need": "tower"},
        {"order_id": "o5", "client_id": "c", "placed_at": at(24), "need": "tower"},
    )
    marked = {r["order_id"]: r for r in mark_deals(frame, 14).to_dicts()}
    assert {k: (r["addon"], r["deal_id"], r["deal_no"]) for k, r in marked.items()} == {
        "o1": (False, "o1", 1),
        "o2": (True, "o1", 1),
        "o3": (False, "o3", 2),
        "o4": (False, "o4", 3),
        "o5": (True, "o4", 3),
    }


def test_an_add_on_of_an_add_on_belongs_to_the_first_order_of_the_deal():
    frame = orders(
        {"order_id": "a", "client_id": "c", "placed_at": at(0), "need": "n"},
        {"order_id": "b", "client_id": "c", "placed_at": at(10), "need": "n"},
        {"order_id": "c", "client_id": "c", "placed_at": at(20), "adds_to_order_id": "b"},
        # naming another client's order is no add-on
        {"order_id": "x", "client_id": "other", "placed_at": at(21), "adds_to_order_id": "a"},
    )
    marked = {r["order_id"]: r["deal_id"] for r in mark_deals(frame, 14).to_dicts()}
    assert marked == {"a": "a", "b": "a", "c": "a", "x": "x"}


def test_repeat_figures_count_deals_not_add_ons():
    # Client c: 8 orders in October that are 5 deals (3 add-ons); client d: 1 order.
    rows = [
        {"order_id": "c1", "client_id": "c", "placed_at": at(0), "total_minor": 1000},
        {"order_id": "c2", "client_id": "c", "placed_at": at(2), "adds_to_order_id": "c1"},
        {"order_id": "c3", "client_id": "c", "placed_at": at(6), "total_minor": 3000},
        {"order_id": "c4", "client_id": "c", "placed_at": at(12), "total_minor": 2000},
        {"order_id": "c5", "client_id": "c", "placed_at": at(13), "adds_to_order_id": "c4"},
        {"order_id": "c6", "client_id": "c", "placed_at": at(14), "adds_to_order_id": "c4"},
        {"order_id": "c7", "client_id": "c", "placed_at": at(20), "total_minor": 4000},
        {"order_id": "c8", "client_id": "c", "placed_at": at(24), "total_minor": 500},
        {"order_id": "d1", "client_id": "d", "placed_at": at(1), "total_minor": 600},
    ]
    marked = mark_deals(orders(*rows), 14)
    lines = pl.DataFrame(
        {
            "order_id": ["c1", "c1", "c2", "c3", "d1"],
            "sku": ["A", "B", "A", "C", "A"],
            "category": ["glue", "glue", "glue", "board", "glue"],
            "quantity": [1.0, 1.0, 1.0, 1.0, 1.0],
            "unit_price_minor": [100, 300, 200, 500, 200],
        }
    )
    got = repeat_figures(marked, lines, at(0), at(31))
    assert (got["orders"], got["deals"], got["add_ons"]) == (9, 6, 3)
    # naive: every order of c after its first (7) and none of d
    assert got["repeat_orders_counted_naively"] == 7
    assert got["repeat_deals"] == 4  # c's deals 2..5
    assert got["deal_to_deal"][:2] == [
        {"from_deal": 1, "clients": 2, "next": 1, "conversion": 0.5},
        {"from_deal": 2, "clients": 1, "next": 1, "conversion": 1.0},
    ]
    # c's deals start on days 0, 6, 12, 20, 24: gaps 6, 6, 8, 4
    assert got["days_between_deals"] == {"mean": 6.0, "median": 6.0}
    # deal values: c1+c2 = 2000, 3000, c4..c6 = 4000, 4000, 500; d1 = 600 -> 14100 / 6
    assert got["average_check_minor"] == 2350.0
    assert got["average_check_trend"] == [
        {"month": "2026-10", "deals": 6, "average_check_minor": 2350.0}
    ]
    # SKUs per deal among deals with lines: c1 deal {A, B} = 2, c3 {C} = 1, d1 {A} = 1
    assert got["check_depth"] == 1.3
    # glue median 200: 100/200, 300/200, 200/200, 200/200; board 500/500 -> (0.5+1.5+1+1+1)/5
    assert got["check_width"] == 1.0


def test_co_purchases_count_pairs_per_segment_with_support_confidence_and_lift():
    lines = pl.DataFrame(
        {
            "deal_id": ["d1", "d1", "d2", "d2", "d3", "d4", "d4"],
            "segment": ["A", "A", "A", "A", "A", "A", "A"],
            "sku": ["glue", "primer", "glue", "primer", "glue", "tile", "primer"],
        }
    )
    got = co_purchases(lines, "sku", min_together=2).to_dicts()
    # 4 baskets; glue in 3, primer in 3, together in 2
    assert got == [
        {
            "segment": "A",
            "a": "glue",
            "b": "primer",
            "together": 2,
            "support": 0.5,
            "confidence_a_to_b": 0.6667,
            "confidence_b_to_a": 0.6667,
            "lift": 0.8889,
        }
    ]


def test_a_lead_that_converts_counts_at_each_stage_with_the_days_between():
    changes = pl.DataFrame(
        {
            "client_id": ["L1", "L1", "L1", "L2", "L2", "L3"],
            "to_stage": ["lead", "qualified", "first_order", "lead", "qualified", "lead"],
            "position": [1, 2, 4, 1, 2, 1],
            "changed_at": [at(0), at(4), at(10), at(1), at(3), at(2)],
            "source": ["expo", "expo", "expo", "web", "web", "expo"],
        }
    )
    (everyone,) = pipeline_conversion(changes)
    assert everyone["stages"] == [
        {
            "stage": "lead",
            "position": 1,
            "reached": 3,
            "next_stage": "qualified",
            "converted": 2,
            "conversion": 0.6667,
            "median_days_to_next": 3.0,  # L1 4 days, L2 2 days
        },
        {
            "stage": "qualified",
            "position": 2,
            "reached": 2,
            "next_stage": "first_order",
            "converted": 1,
            "conversion": 0.5,
            "median_days_to_next": 6.0,
        },
        {"stage": "first_order", "position": 4, "reached": 1},
    ]
    by_source = {
        g["group"]: g["stages"][0]["conversion"] for g in pipeline_conversion(changes, "source")
    }
    assert by_source == {"expo": 0.5, "web": 1.0}
    leads = pl.DataFrame({"client_id": ["L1", "L2", "L3"], "entered_at": [at(0), at(1), at(2)]})
    first = pl.DataFrame({"client_id": ["L1"], "first_order_at": [at(10)]})
    assert client_conversion(leads, first) == {
        "leads": 3,
        "first_orders": 1,
        "conversion": 0.3333,
        "median_days_to_first_order": 10.0,
    }


def sales(rows: list[tuple[str, str | None, str | None, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "client_id": c,
                "legal_name": c,
                "currency": "EUR",
                "manager_id": m,
                "department": dep,
                "revenue_minor": v,
            }
            for c, m, dep, v in rows
        ]
    )


NO_MARKS = pl.DataFrame(schema={"client_id": pl.String, "criteria": pl.List(pl.String)})


def test_a_client_over_10_percent_is_key_and_a_manager_over_the_limit_is_shown():
    frame = sales(
        [
            ("big", "m1", "north", 2500),  # 25 %
            ("k1", "m1", "north", 1200),  # 12 %
            ("k2", "m1", "north", 1100),  # 11 %
            ("k3", "m1", "south", 1100),  # 11 %
            ("small", "m2", "south", 900),  # 9 %
            ("rest", "m2", "south", 3200),  # 32 %
        ]
    )
    clients, managers = key_accounts(frame, NO_MARKS, level="company", threshold=0.1, per_manager=3)
    assert clients["client_id"].to_list() == ["rest", "big", "k1", "k2", "k3"]
    assert managers.to_dicts() == [
        {"manager_id": "m1", "key_accounts": 4, "limit": 3, "over_limit": True},
        {"manager_id": "m2", "key_accounts": 1, "limit": 3, "over_limit": False},
    ]
    marks = pl.DataFrame({"client_id": ["small"], "criteria": [["innovator"]]})
    clients, _ = key_accounts(frame, marks, level="company", threshold=0.1, per_manager=3)
    small = clients.filter(pl.col("client_id") == "small").to_dicts()[0]
    assert (small["key_by_share"], small["criteria"]) == (False, ["innovator"])
    # within manager m2's clients, small is 900 / 4100 = 22 %
    clients, _ = key_accounts(frame, NO_MARKS, level="manager", threshold=0.1, per_manager=3)
    assert "small" in clients["client_id"].to_list()


def test_concentration_levels_passed():
    shares = pl.DataFrame({"share": [0.09, 0.1, 0.15, 0.2, 0.25, 0.31, 0.5, 0.51, None]})
    got = shares.select(share=concentration_level(pl.col("share"), [0.2, 0.3, 0.4, 0.5]))
    assert got["share"].to_list() == [None, None, None, None, 0.2, 0.3, 0.4, 0.5, None]


def test_team_performance_per_manager():
    rows = [
        {"order_id": "o1", "client_id": "a", "placed_at": at(-40), "total_minor": 500},
        {"order_id": "o2", "client_id": "a", "placed_at": at(3), "total_minor": 1000},
        {"order_id": "o3", "client_id": "a", "placed_at": at(4), "adds_to_order_id": "o2"},
        {
            "order_id": "o4",
            "client_id": "b",
            "placed_at": at(5),
            "total_minor": 3000,
            "on_behalf": True,
        },
        {"order_id": "o5", "client_id": "c", "placed_at": at(6), "total_minor": 800},
    ]
    marked = mark_deals(orders(*rows), 14)
    clients = pl.DataFrame(
        {
            "client_id": ["a", "b", "c"],
            "manager_id": ["m1", "m1", "m2"],
            "abc_revenue": ["A", "B", None],
            "churn_raised": [False, True, False],
        }
    )
    quotes = pl.DataFrame(
        {
            "client_id": ["a", "b", "b"],
            "offered_at": [at(1), at(2), at(-60)],
            "accepted_at": [at(3), None, at(-50)],
        }
    )
    plans = pl.DataFrame({"manager_id": ["m1"], "plan_minor": [10000]})
    m1, m2 = team_performance(marked, clients, quotes, plans, at(0), at(31))
    assert m1 == {
        "manager_id": "m1",
        "clients": 2,
        "new_clients": 1,  # b; a first bought before the period
        "orders": 3,
        "orders_on_behalf": 1,
        "quotes_offered": 2,
        "quotes_accepted": 1,
        "quote_conversion": 0.5,
        "revenue_minor": 5000,
        "average_check_minor": 1667.0,
        "repeat_deals": 1,  # o2 is a's second deal; o3 its add-on; o4 b's first
        "segment_shares": {"A": 0.5, "B": 0.5},
        "churned_clients": 1,
        "plan_minor": 10000,
        "fact_minor": 5000,
        "completion": 0.5,
    }
    assert (m2["new_clients"], m2["plan_minor"], m2["completion"]) == (1, None, None)


def test_loss_reasons_by_segment():
    reasons = pl.DataFrame(
        {
            "kind": ["cancellation", "return", "survey", "complaint"],
            "reason_code": ["price", "product", "price", "service"],
            "segment": ["A", "A", "A", None],
        }
    )
    assert loss_reasons(reasons, "segment") == [
        {
            "group": "A",
            "reason_code": "price",
            "count": 2,
            "cancellations": 1,
            "returns": 0,
            "complaints": 0,
            "surveys": 1,
        },
        {
            "group": "A",
            "reason_code": "product",
            "count": 1,
            "cancellations": 0,
            "returns": 1,
            "complaints": 0,
            "surveys": 0,
        },
        {
            "group": "unknown",
            "reason_code": "service",
            "count": 1,
            "cancellations": 0,
            "returns": 0,
            "complaints": 1,
            "surveys": 0,
        },
    ]


def test_retention_payoff_sets_reorder_discounts_and_bonuses_against_acquisition():
    rows = [
        {"order_id": "o1", "client_id": "a", "placed_at": at(0)},
        {"order_id": "o2", "client_id": "a", "placed_at": at(30)},  # a repeat deal in Oct
    ]
    marked = mark_deals(orders(*rows), 14)
    lines = pl.DataFrame(
        {
            "order_id": ["o1", "o2"],
            "quantity": [2.0, 3.0],
            "unit_price_minor": [90, 90],
            "list_price_minor": [100, 100],
        }
    )
    spend = pl.DataFrame(
        {
            "month": ["2026-10", "2026-10", "2026-10"],
            "kind": ["acquisition", "loyalty_bonus", "retro_bonus"],
            "amount_minor": [100, 20, 30],
        }
    )
    assert retention_payoff(marked, lines, spend) == [
        {
            "month": "2026-10",
            "reorder_discounts_minor": 30,  # only o2: (100 - 90) x 3
            "loyalty_bonuses_minor": 20,
            "retro_bonuses_minor": 30,
            "retention_minor": 80,
            "acquisition_minor": 100,
            "retention_per_acquisition": 0.8,
        }
    ]


def test_the_funnels():
    quotes = pl.DataFrame({"offered_minor": [1000, 3000], "accepted_minor": [1000, None]})
    placed = pl.DataFrame({"total_minor": [1000, 500], "delivered_minor": [1000, None]})
    got = financial_funnel(quotes, placed, balance_minor=400)
    assert [s["value"] for s in got["steps"]] == [4000, 1000, 1500, 1000, 600]
    assert got["conversion"] == 0.15
    quote_lines = pl.DataFrame(
        {"quote_id": ["q", "q", "r"], "sku": ["A", "B", "A"], "order_id": ["o", "o", None]}
    )
    order_lines = pl.DataFrame({"order_id": ["o"], "sku": ["A"]})
    assert unit_funnel(quote_lines, order_lines)["conversion"] == 0.3333
    offers = pl.DataFrame(
        {
            "id": ["1", "2", "3"],
            "client_id": ["a", "a", "b"],
            "kind": ["upsell", "upsell", "cross_sell"],
            "sku": ["GOLD", "GOLD", "PRIMER"],
            "shown_at": [at(0), at(-60), at(0)],
        }
    )
    bought = pl.DataFrame({"client_id": ["a"], "sku": ["GOLD"], "placed_at": [at(3)]})
    assert [(f["kind"], f["conversion"]) for f in upsell_funnel(offers, bought, 30)] == [
        ("cross_sell", 0.0),
        ("upsell", 0.5),
    ]


def test_a_ratio_pages_by_a_whole_number_that_sorts_as_it_does():
    ratios = [-1e300, -2.5, -0.1, -5e-324, -0.0, 0.0, 5e-324, 0.1, 0.14285714, 0.1429, 1.0, 1e300]
    assert [ordinal(r) for r in ratios] == sorted(ordinal(r) for r in ratios)
    assert len({ordinal(r) for r in ratios}) == len(ratios) - 1  # -0.0 is 0.0
    assert all(abs(ordinal(r)) <= MAX_BIGINT for r in ratios)  # a cursor may hold it
