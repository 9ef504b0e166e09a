"""An ERP import of history through events: whenever a share, a concentration label, an alert
or a segment change goes out, the base statistics behind it are the base's as it is now."""

from __future__ import annotations

import polars as pl
import pytest

from services.analytics.domain.base import current_base
from tests.analytics.world import company, deliver, outbox, placed, recompute_base, sql


async def test_an_import_of_history_is_measured_against_the_base_it_made(analytics):
    base = [company() for _ in range(10)]
    await deliver(analytics, *base, *(placed(c.company_id, 20) for c in base))
    await recompute_base(analytics)  # the stored statistics: 10 buyers, 10,000 of sales
    alerts_before = len(await outbox(analytics, "concentration_alert"))
    changes_before = len(await outbox(analytics, "segment_changed"))
    importers = {str(c.company_id) for c in base[:4]}
    history = [
        placed(c.company_id, 40 + 30 * k, {"SKU-1": ("1", 4000)})
        for c in base[:4]
        for k in range(11)
    ]
    await deliver(analytics, *history)  # ERP posts a year of each one's orders: one batch

    rows = await sql(
        analytics,
        "SELECT client_id::text, (metrics->>'sales_share')::float8, concentration "
        "FROM client_segments",
    )
    assert max(share for _, share, _ in rows) <= 1
    # each importer: 1,000 + 44,000 of 6 x 1,000 + 4 x 45,000 = 186,000, a 24 % share
    assert {c: (round(s, 4), label) for c, s, label in rows if c in importers} == {
        c: (round(45_000 / 186_000, 4), "dependency_risk") for c in importers
    }
    alerts = (await outbox(analytics, "concentration_alert"))[alerts_before:]
    assert sorted((a["client_id"], a["level"]) for a in alerts) == sorted(
        (c, 0.2) for c in importers
    )
    changes = (await outbox(analytics, "segment_changed"))[changes_before:]
    labels = {
        ch["current"] for e in changes for ch in e["changes"] if ch["dimension"] == "concentration"
    }
    assert labels == {"dependency_risk"}
    # what the hourly full recompute finds is what the events already said
    again = await recompute_base(analytics)
    assert (again["segment_changed"], again["concentration_alert"]) == (0, 0)


async def test_a_small_move_keeps_the_statistics_and_measures_shares_against_today(analytics):
    base = [company() for _ in range(60)]
    await deliver(analytics, *base, *(placed(c.company_id, 20) for c in base))
    await recompute_base(analytics)  # 60 buyers, 60,000
    await deliver(analytics, placed(base[0].company_id, 10, {"SKU-1": ("1", 1000)}))  # +1.7 %
    share = await sql(
        analytics,
        "SELECT (metrics->>'sales_share')::float8 FROM client_segments WHERE client_id = :c",
        c=base[0].company_id,
    )
    assert share == [(pytest.approx(2000 / 61_000, abs=1e-4),)]
    statistics = await sql(analytics, "SELECT stats->'base'->>'sales_total_minor' FROM base_stats")
    assert statistics == [("60000",)]  # not recomputed: within 2 %


def base(total: int, buyers: int) -> pl.DataFrame:
    return pl.DataFrame({"currency": ["EUR"], "sales_total_minor": [total], "buyers": [buyers]})


def others(sales: int, buyers: int) -> pl.DataFrame:
    return pl.DataFrame({"currency": ["EUR"], "sales_minor": [sales], "buyers": [buyers]})


def batch(*sales: int) -> pl.DataFrame:
    return pl.DataFrame(
        {"currency": ["EUR"] * len(sales), "orders": [1] * len(sales), "abc_revenue_minor": sales}
    )


def test_the_base_moved_when_its_total_or_its_buyers_moved_more_than_the_share():
    stored = base(10_000, 50)
    kept = current_base(stored, others(9_000, 49), batch(1_200), 0.02)
    assert kept is not None and kept.row(0, named=True)["sales_total_minor"] == 10_200
    assert current_base(stored, others(9_000, 49), batch(1_201), 0.02) is None  # 2.01 %
    assert current_base(stored, others(9_000, 49), batch(500, 300, 200), 0.02) is None  # 52 buyers
    assert current_base(stored, others(9_000, 49), batch(4_000), 0.02) is None  # ERP history
