"""Each client's raw figures from its facts: orders, revenue, margin, gaps, monthly series,
satisfaction. Nothing here compares a client with the base (see `metrics.py`)."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from services.analytics.domain.definitions import Definitions
from services.analytics.domain.facts import DAYS_PER_MONTH, Facts, month_index, month_of, month_span


def client_figures(facts: Facts, as_of: datetime, d: Definitions) -> pl.LazyFrame:
    """One row per known client (and per client seen only in orders) with the raw figures."""
    since = as_of - month_span(d.history_months)
    end_month = month_of(as_of) - 1  # the last complete month
    clients = facts.clients.select(
        "client_id", "currency", "purchase_potential_minor", "overdue_minor"
    )
    orders = (
        facts.orders.filter(pl.col("placed_at") > since, pl.col("placed_at") <= as_of)
        .join(clients.select("client_id", pl.col("currency").alias("home")), "client_id", "left")
        .filter(pl.col("home").is_null() | (pl.col("home") == pl.col("currency")))
        .with_columns(
            month=month_index(pl.col("placed_at")),
            margin=pl.col("costed_minor") - pl.col("cost_minor"),
        )
    )
    in_last = lambda months: pl.col("placed_at") > as_of - month_span(months)  # noqa: E731
    gaps = pl.col("placed_at").sort().diff().dt.total_seconds() / 86_400
    trend_window = month_span(d.churn_trend_months)
    trend_recent = pl.col("placed_at") > as_of - trend_window
    trend_previous = ~trend_recent & (pl.col("placed_at") > as_of - 2 * trend_window)
    per_client = orders.group_by("client_id").agg(
        order_currency=pl.col("currency").first(),
        orders=pl.len(),
        revenue_minor=pl.col("total_minor").sum(),
        costed_minor=pl.col("costed_minor").sum(),
        margin_minor=pl.col("margin").sum(),
        first_order_at=pl.col("placed_at").min(),
        last_order_at=pl.col("placed_at").max(),
        abc_revenue_minor=pl.col("total_minor").filter(in_last(d.abc_months)).sum(),
        abc_margin_minor=pl.col("margin").filter(in_last(d.abc_months)).sum(),
        abc_costed_minor=pl.col("costed_minor").filter(in_last(d.abc_months)).sum(),
        rfm_orders=pl.col("total_minor").filter(in_last(d.rfm_months)).len(),
        rfm_revenue_minor=pl.col("total_minor").filter(in_last(d.rfm_months)).sum(),
        wallet_revenue_minor=pl.col("total_minor").filter(in_last(d.wallet_months)).sum(),
        frequent_window_orders=pl.col("total_minor")
        .filter(pl.col("placed_at") > as_of - _days(d.frequent_buyer_days))
        .len(),
        median_gap_days=gaps.median(),
        gap_mean=gaps.mean(),
        gap_std=gaps.std(ddof=0),
        # The volume trend: two equal windows of days ending now, not calendar months, so
        # the day of the month never decides (see `volume_drop`).
        recent_orders=trend_recent.sum(),
        recent_volume=pl.col("total_minor").filter(trend_recent).sum(),
        previous_orders=trend_previous.sum(),
        previous_volume=pl.col("total_minor").filter(trend_previous).sum(),
        delivered_known=(pl.col("delivered") & pl.col("on_time").is_not_null()).sum(),
        otif=(pl.col("delivered") & pl.col("on_time") & pl.col("in_full")).sum(),
    )
    # Monthly series: sums over the months with purchases; months without count as zeros.
    monthly = orders.group_by("client_id", "month").agg(value=pl.col("total_minor").sum())
    xyz_start = end_month - d.xyz_months + 1
    series = monthly.group_by("client_id").agg(
        first_month=pl.col("month").min(),
        xyz_sum=pl.col("value").filter(pl.col("month").is_between(xyz_start, end_month)).sum(),
        xyz_sumsq=(pl.col("value").cast(pl.Float64) ** 2)
        .filter(pl.col("month").is_between(xyz_start, end_month))
        .sum(),
    )
    by_year = (
        orders.group_by("client_id", year=pl.col("placed_at").dt.year())
        .agg(
            revenue_minor=pl.col("total_minor").sum(),
            margin_minor=pl.when(pl.col("costed_minor").sum() > 0).then(pl.col("margin").sum()),
        )
        .sort("client_id", "year")
        .group_by("client_id")
        .agg(margin_by_year=pl.struct("year", "revenue_minor", "margin_minor"))
    )
    satisfaction = facts.feedback.group_by("client_id").agg(
        nps_average=pl.col("nps").mean(),
        csat_average=pl.col("csat").mean(),
    )
    touchpoints = (
        touchpoint_scores(facts.feedback, "client_id")
        .sort("client_id", "touchpoint")
        .group_by("client_id")
        .agg(satisfaction=pl.struct(pl.exclude("client_id")))
    )
    everyone = pl.concat(
        [clients.select("client_id"), per_client.select("client_id")], how="vertical"
    ).unique()
    return (
        everyone.join(clients, "client_id", "left")
        .join(per_client, "client_id", "left")
        .join(series, "client_id", "left")
        .join(satisfaction, "client_id", "left")
        .join(by_year, "client_id", "left")
        .join(touchpoints, "client_id", "left")
        .with_columns(
            currency=pl.coalesce("currency", "order_currency"),
            orders=pl.col("orders").fill_null(0).cast(pl.Int64),
            rfm_orders=pl.col("rfm_orders").fill_null(0).cast(pl.Int64),
            frequent_window_orders=pl.col("frequent_window_orders").fill_null(0).cast(pl.Int64),
            overdue_minor=pl.col("overdue_minor").fill_null(0),
            months_in_xyz=(
                pl.lit(end_month) - pl.max_horizontal(pl.col("first_month"), pl.lit(xyz_start)) + 1
            ),
            days_since_last_order=(
                (pl.lit(as_of) - pl.col("last_order_at")).dt.total_seconds() // 86_400
            ).cast(pl.Int64),
            tenure_months=(pl.col("last_order_at") - pl.col("first_order_at")).dt.total_seconds()
            / 86_400
            / DAYS_PER_MONTH
            + 1,
            age_months=pl.max_horizontal(
                (pl.lit(as_of) - pl.col("first_order_at")).dt.total_seconds()
                / 86_400
                / DAYS_PER_MONTH,
                pl.lit(1.0),
            ),
        )
        .drop("order_currency")
    )


def touchpoint_scores(feedback: pl.LazyFrame, *keys: str) -> pl.LazyFrame:
    """NPS (% promoters 9-10 minus % detractors 0-6) and CSAT (% of 4-5 out of 1-5) per
    touchpoint, with the number of answers of each and of responses (one response may answer
    both)."""
    return feedback.group_by(*keys, "touchpoint").agg(
        answers=(pl.col("nps").is_not_null() | pl.col("csat").is_not_null()).sum(),
        nps_answers=pl.col("nps").count(),
        # Signed per answer (+1 promoter, -1 detractor): counts are unsigned in polars, and a
        # base of detractors would wrap around instead of going below zero.
        nps=100 * ((pl.col("nps") >= 9).cast(pl.Int8) - (pl.col("nps") <= 6).cast(pl.Int8)).mean(),
        csat_answers=pl.col("csat").count(),
        csat=100 * (pl.col("csat") >= 4).cast(pl.Int8).mean(),
    )


def _days(n: int) -> timedelta:
    return timedelta(days=n)
