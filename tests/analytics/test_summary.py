"""The base summary and the SKU segments on hand-computed small data: CRR per calendar
period, SKU ABC in the clients' window, satisfaction answers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from services.analytics.domain.facts import Facts
from services.analytics.domain.metrics import client_metrics
from services.analytics.domain.summary import retention, sku_segments, summarise
from tests.analytics.facts import AS_OF, client, definitions, order


def at(year: int, month: int, day: int = 10) -> datetime:
    return datetime(year, month, day, 10, tzinfo=UTC)


def crr_rows(orders: list[dict], as_of: datetime = AS_OF) -> list[tuple]:
    crr = retention(Facts.of(orders, []).orders, as_of, definitions())
    return crr.select("starts", "start", "active", "new", "crr").rows()


def test_crr_lists_every_complete_quarter_and_a_quarter_without_buyers_reads_zero():
    # Q3'25 {a}; Q4'25 {a, b} b new; Q1'26 nobody; Q2'26 {a, c} c new; Q3'26 {a, b}; Q4'26 is
    # the current quarter (15 Nov 2026): left out
    orders = [
        order("a", at=at(2025, 9)),
        order("a", at=at(2025, 11)),
        order("a", at=at(2026, 5)),
        order("a", at=at(2026, 8)),
        order("b", at=at(2025, 10)),
        order("b", at=at(2026, 8)),
        order("c", at=at(2026, 5)),
        order("d", at=at(2026, 11)),
    ]
    assert crr_rows(orders) == [
        ("2025-10", 1, 2, 1, 100.0),  # S = {a}, E = {a, b}, N = {b}
        ("2026-01", 2, 0, 0, 0.0),  # no buyers: nobody kept
        ("2026-04", 0, 2, 1, None),  # S = 0 (not Q4'25's two): no rate
        ("2026-07", 2, 2, 0, 100.0),  # S = {a, c}, E = {a, b}
    ]


def test_crr_the_newest_complete_quarter_is_listed_even_when_nobody_bought():
    orders = [order("a", at=at(2026, 8)), order("b", at=at(2026, 9))]
    rows = crr_rows(orders, as_of=datetime(2027, 1, 1, 0, 20, tzinfo=UTC))
    assert rows[-2:] == [("2026-07", 0, 2, 2, None), ("2026-10", 2, 0, 0, 0.0)]


def test_crr_periods_of_a_year_start_in_january():
    orders = [order("a", at=at(2025, 3)), order("a", at=at(2026, 12)), order("b", at=at(2026, 1))]
    crr = retention(
        Facts.of(orders, []).orders, AS_OF, definitions(crr_period_months=12, crr_periods=1)
    )
    assert crr.select("starts", "start", "active", "new", "crr").rows() == [
        ("2025-01", 0, 1, 1, None)
    ]


def test_crr_periods_must_divide_the_year():
    with pytest.raises(ValueError, match="must divide the year"):
        definitions(crr_period_months=5)


def test_sku_abc_uses_the_clients_rolling_year_not_the_current_month_plus_eleven():
    # The window: 12 x 30.4375 = 365.25 days up to 15 Nov 2026 12:00, from 15 Nov 2025 06:00
    # on. X sold on 20 Nov 2025: in it (counting from December would leave it out: X a C).
    orders = [
        ("c1", {"X": 5000}, at(2025, 11, 20)),
        ("c2", {"Y": 4000, "Z": 1000}, at(2026, 5)),
        ("c3", {"Z": 800}, at(2025, 11, 13)),  # before the window
    ]
    lines = pl.DataFrame(
        [
            {"sku": sku, "currency": "EUR", "placed_at": when, "revenue_minor": value}
            for _, skus, when in orders
            for sku, value in skus.items()
        ]
    )
    months = lines.select(
        "sku",
        "currency",
        month=pl.col("placed_at").dt.truncate("1mo").dt.date(),
        quantity=pl.lit(1.0),
    )
    since = datetime(2025, 11, 15, 6, tzinfo=UTC)
    in_window = (
        lines.filter(pl.col("placed_at") > since, pl.col("placed_at") <= AS_OF)
        .group_by("sku", "currency")
        .agg(pl.col("revenue_minor").sum())
    )
    skus = sku_segments(months.lazy(), in_window.lazy(), AS_OF, definitions())
    assert skus.select("sku", "abc", "revenue_minor").rows() == [
        ("X", "A", 5000),
        ("Y", "A", 4000),
        ("Z", "B", 1000),  # 9000 of 10000 before it
    ]
    # the clients' ABC over the same orders counts the same revenue: one window
    facts = Facts.of(
        [order(c, at=when, total=sum(skus_.values())) for c, skus_, when in orders], []
    )
    frame, _ = client_metrics(facts, AS_OF, definitions())
    assert frame["abc_revenue_minor"].sum() == skus["revenue_minor"].sum() == 10_000


def test_sku_xyz_by_the_variation_of_monthly_quantity():
    frame = pl.DataFrame(
        {
            "sku": ["S1"] * 12 + ["S2"],
            "currency": ["EUR"] * 13,
            "month": [date(2025 + (10 + i) // 12, (10 + i) % 12 + 1, 1) for i in range(12)]
            + [date(2026, 10, 1)],
            "revenue_minor": [1000] * 12 + [500],
            "quantity": [10.0] * 12 + [3.0],
        }
    )
    revenue = pl.DataFrame(
        {"sku": ["S1", "S2"], "currency": ["EUR", "EUR"], "revenue_minor": [12_000, 500]}
    )
    skus = sku_segments(frame.lazy(), revenue.lazy(), AS_OF, definitions())
    assert skus.select("sku", "abc", "xyz").rows() == [("S1", "A", "X"), ("S2", "C", None)]


def test_survey_answers_count_responses_once_whatever_they_scored():
    feedback = [
        {"client_id": "c", "touchpoint": "delivery", "nps": 10, "csat": 5},  # both: one answer
        {"client_id": "c", "touchpoint": "delivery", "nps": 3, "csat": None},
        {"client_id": "c", "touchpoint": "delivery", "nps": None, "csat": 2},
    ]
    facts = Facts.of([order("c", 5)], [client("c")], feedback)
    frame, _ = client_metrics(facts, AS_OF, definitions())
    summary = summarise(frame, facts.orders, facts.feedback, AS_OF, definitions())
    delivery = next(s for s in summary["EUR"]["satisfaction"] if s["touchpoint"] == "delivery")
    assert delivery["answers"] == 3
    assert (delivery["nps"], delivery["csat"]) == (0.0, 50.0)  # (1 - 1) / 2; 1 of 2
