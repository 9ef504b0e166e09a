"""Client metrics and segments in polars: columnar, lazy, no per-client Python loop.

`client_metrics(facts, as_of, definitions)` turns the facts into one row per client with every
figure and segment. The base-relative parts (ABC cut-offs, RFM quintile breakpoints, the base's
median check, total sales, average lifetime) come from `base_stats`; a full recompute derives
them from the whole base, one client's recompute after an event reuses the stored ones, so
both paths classify with the same code.

Conventions: money is integer minor units in the client's currency (orders in another
currency are left out of that client's figures). Windows of N months are N x 30.4375 days
ending at `as_of` (ABC, RFM, wallet, the churn trend); month series (XYZ) are calendar months
in UTC, and the current month is incomplete, so they use the complete months before `as_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from services.analytics.domain.concentration import concentration_level
from services.analytics.domain.tables import matrix_actions, rfm_segments
from services.analytics.settings import Settings

DAYS_PER_MONTH = 30.4375
QUINTILE_BREAKS = (0.2, 0.4, 0.6, 0.8)
SEGMENT_DIMENSIONS = (
    "abc_revenue",
    "abc_margin",
    "xyz",
    "rfm_segment",
    "regularity",
    "check_tier",
    "ladder",
    "payment_behaviour",
    "concentration",
)

ORDERS_SCHEMA = {
    "client_id": pl.String,
    "currency": pl.String,
    "placed_at": pl.Datetime("us", "UTC"),
    "total_minor": pl.Int64,
    "costed_minor": pl.Int64,
    "cost_minor": pl.Int64,
    "delivered": pl.Boolean,
    "on_time": pl.Boolean,
    "in_full": pl.Boolean,
}
CLIENTS_SCHEMA = {
    "client_id": pl.String,
    "currency": pl.String,
    "purchase_potential_minor": pl.Int64,
    "overdue_minor": pl.Int64,
}
FEEDBACK_SCHEMA = {
    "client_id": pl.String,
    "touchpoint": pl.String,
    "nps": pl.Int64,
    "csat": pl.Int64,
}
TOUCHPOINTS = ("portal", "manager", "delivery", "product")


@dataclass
class Facts:
    """What the metrics are computed from: counted orders, clients, feedback."""

    orders: pl.LazyFrame
    clients: pl.LazyFrame
    feedback: pl.LazyFrame

    @classmethod
    def of(
        cls,
        orders: list[dict] | pl.DataFrame | pl.LazyFrame,
        clients: list[dict] | pl.DataFrame | pl.LazyFrame,
        feedback: list[dict] | pl.DataFrame | pl.LazyFrame | None = None,
    ) -> Facts:
        return cls(
            _frame(orders, ORDERS_SCHEMA),
            _frame(clients, CLIENTS_SCHEMA),
            _frame(feedback or [], FEEDBACK_SCHEMA),
        )


def _frame(data: list[dict] | pl.DataFrame | pl.LazyFrame, schema: dict) -> pl.LazyFrame:
    if isinstance(data, pl.LazyFrame):
        return data
    if isinstance(data, pl.DataFrame):
        return data.lazy()
    frame = pl.DataFrame(data, schema_overrides=schema, infer_schema_length=None)
    for name, dtype in schema.items():
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype).alias(name))
    return frame.select([pl.col(n).cast(t) for n, t in schema.items()]).lazy()


def month_index(expr: pl.Expr) -> pl.Expr:
    return expr.dt.year().cast(pl.Int32) * 12 + expr.dt.month().cast(pl.Int32) - 1


def _month_of(moment: datetime) -> int:
    return moment.year * 12 + moment.month - 1


# Raw per-client figures ----------------------------------------------------------------------


def client_figures(facts: Facts, as_of: datetime, d: Settings) -> pl.LazyFrame:
    """One row per known client (and per client seen only in orders) with the raw figures."""
    since = as_of - _months(d.history_months)
    end_month = _month_of(as_of) - 1  # the last complete month
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
    in_last = lambda months: pl.col("placed_at") > as_of - _months(months)  # noqa: E731
    gaps = pl.col("placed_at").sort().diff().dt.total_seconds() / 86_400
    trend_window = _months(d.churn_trend_months)
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


def _months(n: int) -> timedelta:
    return timedelta(days=n * DAYS_PER_MONTH)


def _days(n: int) -> timedelta:
    return timedelta(days=n)


# Base-wide figures ---------------------------------------------------------------------------


def abc_classes(
    frame: pl.LazyFrame, value: str, by: str, a_share: float, b_share: float
) -> pl.LazyFrame:
    """ABC by cumulative share of `value` within each `by` group: A up to `a_share`, B up to
    `b_share`, C the rest. The item that crosses a line still belongs above it. Ties: items of
    equal value get the class of the first of them, so equal items never split; the order
    among them (by key) is deterministic. Items with value <= 0 are C; null values stay null."""
    ranked = (
        frame.filter(pl.col(value).is_not_null())
        .sort([by, value, "key"], descending=[False, True, False])
        .with_columns(
            total=pl.col(value).clip(lower_bound=0).sum().over(by),
            running=pl.col(value).clip(lower_bound=0).cum_sum().over(by),
        )
        .with_columns(before=(pl.col("running") - pl.col(value).clip(lower_bound=0)))
        .with_columns(share_before=pl.col("before").min().over(by, value) / pl.col("total"))
        .with_columns(
            abc=pl.when(pl.col(value) <= 0)
            .then(pl.lit("C"))
            .when(pl.col("share_before") < a_share)
            .then(pl.lit("A"))
            .when(pl.col("share_before") < b_share)
            .then(pl.lit("B"))
            .otherwise(pl.lit("C"))
        )
    )
    return ranked.select("key", by, value, "abc")


def _cutoffs(classes: pl.LazyFrame, value: str, prefix: str) -> pl.LazyFrame:
    """The smallest value in A and in B: classifying against them reproduces the classes."""
    return classes.group_by("currency").agg(
        pl.col(value).filter(pl.col("abc") == "A").min().alias(f"{prefix}_a_min"),
        pl.col(value).filter(pl.col("abc") == "B").min().alias(f"{prefix}_b_min"),
    )


def base_stats(figures: pl.LazyFrame, d: Settings) -> pl.DataFrame:
    """Per currency: ABC cut-offs, RFM breakpoints, median check, sales total, lifetime."""
    buyers = figures.filter(pl.col("orders") > 0)
    revenue = abc_classes(
        buyers.select(pl.col("client_id").alias("key"), "currency", "abc_revenue_minor"),
        "abc_revenue_minor",
        "currency",
        d.abc_a_share,
        d.abc_b_share,
    )
    margin = abc_classes(
        buyers.filter(pl.col("abc_costed_minor") > 0).select(
            pl.col("client_id").alias("key"), "currency", "abc_margin_minor"
        ),
        "abc_margin_minor",
        "currency",
        d.abc_a_share,
        d.abc_b_share,
    )
    breaks = []
    for name, column in (
        ("r", "days_since_last_order"),
        ("f", "rfm_orders"),
        ("m", "rfm_revenue_minor"),
    ):
        breaks += [
            pl.col(column).quantile(q, "lower").alias(f"{name}_b{i + 1}")
            for i, q in enumerate(QUINTILE_BREAKS)
        ]
    stats = buyers.group_by("currency").agg(
        *breaks,
        median_check_minor=(pl.col("revenue_minor") / pl.col("orders")).median(),
        sales_total_minor=pl.col("abc_revenue_minor").sum(),
        average_lifetime_months=pl.col("tenure_months").mean(),
        buyers=pl.len(),
    )
    return (
        stats.join(_cutoffs(revenue, "abc_revenue_minor", "abc_revenue"), "currency", "left")
        .join(_cutoffs(margin, "abc_margin_minor", "abc_margin"), "currency", "left")
        .sort("currency")
        .collect()
    )


# Classification ------------------------------------------------------------------------------


def _score(column: str, prefix: str, *, lower_is_better: bool = False) -> pl.Expr:
    above = sum((pl.col(column) > pl.col(f"{prefix}_b{i}")).cast(pl.Int32) for i in range(1, 5))
    return (5 - above) if lower_is_better else (1 + above)


def _abc_against(value: str, prefix: str) -> pl.Expr:
    return (
        pl.when(pl.col(value).is_null())
        .then(pl.lit(None, pl.String))
        .when(pl.col(value) <= 0)
        .then(pl.lit("C"))
        .when(pl.col(value) >= pl.col(f"{prefix}_a_min"))
        .then(pl.lit("A"))
        .when(pl.col(value) >= pl.col(f"{prefix}_b_min"))
        .then(pl.lit("B"))
        .otherwise(pl.lit("C"))
    )


def _in(column: str, bounds: tuple[int, int]) -> pl.Expr:
    return pl.col(column).is_between(bounds[0], bounds[1])


def client_metrics(
    facts: Facts, as_of: datetime, d: Settings, base: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(one row per client with every figure and segment, the base stats used).

    `base` None: derive the base stats from these facts (a full recompute)."""
    figures = client_figures(facts, as_of, d).collect()
    if base is None:
        base = base_stats(figures.lazy(), d)
    return classify(figures, base, d), base


def classify(figures: pl.DataFrame, base: pl.DataFrame, d: Settings) -> pl.DataFrame:
    """Every client's segments from its raw figures against the base statistics."""
    lifetime = (
        pl.lit(float(d.ltv_lifetime_months))
        if d.ltv_lifetime_months
        else pl.col("average_lifetime_months")
    )
    has_orders = pl.col("orders") > 0
    f = (
        figures.lazy()
        .join(base.lazy(), "currency", "left")
        .with_columns(
            abc_costed=pl.when(pl.col("abc_costed_minor") > 0).then(pl.col("abc_margin_minor")),
            average_check_minor=pl.when(has_orders).then(
                pl.col("revenue_minor") / pl.col("orders")
            ),
            orders_per_month=pl.when(has_orders).then(pl.col("orders") / pl.col("age_months")),
            margin_share=pl.when(pl.col("costed_minor") > 0).then(
                pl.col("margin_minor") / pl.col("costed_minor")
            ),
            lifetime_months=pl.when(has_orders).then(lifetime),
            gap_cv=pl.when(pl.col("gap_mean") > 0).then(pl.col("gap_std") / pl.col("gap_mean")),
            share_of_wallet=pl.when(pl.col("purchase_potential_minor") > 0).then(
                pl.col("wallet_revenue_minor")
                / (pl.col("purchase_potential_minor") * d.wallet_months / 12)
            ),
            sales_share=pl.when(pl.col("sales_total_minor") > 0).then(
                pl.col("abc_revenue_minor").fill_null(0) / pl.col("sales_total_minor")
            ),
            xyz_mean=pl.when(pl.col("months_in_xyz") > 0).then(
                pl.col("xyz_sum") / pl.col("months_in_xyz")
            ),
            otif_rate=pl.when(pl.col("delivered_known") > 0).then(
                pl.col("otif") / pl.col("delivered_known")
            ),
        )
    )
    f = f.with_columns(
        xyz_cv=pl.when(pl.col("xyz_mean") > 0).then(
            (
                (pl.col("xyz_sumsq") / pl.col("months_in_xyz") - pl.col("xyz_mean") ** 2).clip(
                    lower_bound=0
                )
            ).sqrt()
            / pl.col("xyz_mean")
        ),
        ltv_revenue_minor=(
            pl.col("average_check_minor") * pl.col("orders_per_month") * pl.col("lifetime_months")
        ).round(0),
        usual_gap_days=pl.when(pl.col("orders") >= 2)
        .then(pl.col("median_gap_days").clip(lower_bound=1))
        .otherwise(pl.lit(float(d.churn_single_order_gap_days))),
        # Judged only for a client still buying, with enough orders before for one order's
        # timing not to be the whole trend; a client who stopped is judged by its gap.
        volume_drop=pl.when(
            (pl.col("recent_orders") >= 1)
            & (pl.col("previous_orders") >= d.churn_trend_min_orders)
            & (pl.col("previous_volume") > 0)
        ).then((1 - pl.col("recent_volume") / pl.col("previous_volume")).clip(0, 1)),
    )
    f = f.with_columns(
        ltv_minor=(pl.col("ltv_revenue_minor") * pl.col("margin_share")).round(0).cast(pl.Int64),
        ltv_revenue_minor=pl.col("ltv_revenue_minor").cast(pl.Int64),
        abc_revenue=pl.when(has_orders).then(_abc_against("abc_revenue_minor", "abc_revenue")),
        abc_margin=pl.when(has_orders).then(_abc_against("abc_costed", "abc_margin")),
        xyz=pl.when(~has_orders | (pl.col("months_in_xyz") < d.xyz_min_months))
        .then(pl.lit(None, pl.String))
        .when(pl.col("xyz_cv").is_null())
        .then(pl.lit("Z"))
        .when(pl.col("xyz_cv") <= d.xyz_x_max)
        .then(pl.lit("X"))
        .when(pl.col("xyz_cv") <= d.xyz_y_max)
        .then(pl.lit("Y"))
        .otherwise(pl.lit("Z")),
        r_score=pl.when(has_orders).then(
            _score("days_since_last_order", "r", lower_is_better=True)
        ),
        f_score=pl.when(has_orders).then(_score("rfm_orders", "f")),
        m_score=pl.when(has_orders).then(_score("rfm_revenue_minor", "m")),
        regularity=pl.when(~has_orders)
        .then(pl.lit(None, pl.String))
        .when(pl.col("orders") == 1)
        .then(pl.lit("one_off"))
        .when(
            (pl.col("orders") >= d.regular_min_orders)
            & (pl.col("gap_cv").fill_null(0) <= d.regular_max_gap_cv)
        )
        .then(pl.lit("regular"))
        .otherwise(pl.lit("periodic")),
        check_tier=pl.when(~has_orders | pl.col("median_check_minor").is_null())
        .then(pl.lit(None, pl.String))
        .when(pl.col("average_check_minor") < d.check_economy_below * pl.col("median_check_minor"))
        .then(pl.lit("economy"))
        .when(pl.col("average_check_minor") >= d.check_vip_from * pl.col("median_check_minor"))
        .then(pl.lit("vip"))
        .otherwise(pl.lit("standard")),
        gap_ratio=pl.col("days_since_last_order") / pl.col("usual_gap_days"),
        payment_behaviour=pl.when(pl.col("overdue_minor") <= 0)
        .then(pl.when(has_orders).then(pl.lit("pays_on_time")))
        .when(pl.col("frequent_window_orders") >= d.frequent_buyer_min_orders)
        .then(pl.lit("buys_often_pays_late"))
        .otherwise(pl.lit("pays_late")),
        concentration=pl.when(pl.col("sales_share") > d.critical_dependency_share)
        .then(pl.lit("critical_dependency"))
        .when(pl.col("sales_share") > d.dependency_share)
        .then(pl.lit("dependency_risk"))
        .when(pl.col("sales_share") > d.key_client_share)
        .then(pl.lit("key")),
        concentration_level=concentration_level(
            pl.col("sales_share"), d.concentration_alert_levels
        ),
    )
    gap_part = (pl.col("gap_ratio") / (2 * d.churn_gap_factor)).clip(0, 1)
    drop_part = (pl.col("volume_drop").fill_null(0) / (2 * d.churn_drop_share)).clip(0, 1)
    f = f.with_columns(
        churn_score=pl.when(has_orders)
        .then((100 * pl.max_horizontal(gap_part, drop_part)).round(0))
        .cast(pl.Int64),
        churn_by_gap=gap_part >= drop_part,
        rfm_segment=_rfm_segment(d),
        matrix_cell=pl.when(pl.col("abc_revenue").is_not_null() & pl.col("xyz").is_not_null()).then(
            pl.col("abc_revenue") + pl.col("xyz")
        ),
    )
    actions = matrix_actions(d.matrix_actions_json)
    f = f.with_columns(
        churn_raised=pl.col("churn_score").fill_null(0) >= d.churn_raise_score,
        churn_reason=pl.when(~has_orders)
        .then(pl.lit(None, pl.String))
        .when(pl.col("churn_by_gap"))
        .then(
            pl.format(
                "no order for {} days, {}x its usual {}-day interval",
                pl.col("days_since_last_order"),
                pl.col("gap_ratio").round(1),
                pl.col("usual_gap_days").round(0).cast(pl.Int64),
            )
        )
        .otherwise(
            pl.format(
                "purchases fell {}% in the last {} months against the {} before",
                (pl.col("volume_drop") * 100).round(0).cast(pl.Int64),
                pl.lit(d.churn_trend_months),
                pl.lit(d.churn_trend_months),
            )
        ),
        matrix_action=pl.col("matrix_cell").replace_strict(
            actions, default=None, return_dtype=pl.String
        ),
        ladder=_ladder(d),
    )
    return f.collect()


def _rfm_segment(d: Settings) -> pl.Expr:
    expr: pl.Expr | None = None
    chain = None
    for seg in rfm_segments(d.rfm_segments_json):
        cond = _in("r_score", seg.r) & _in("f_score", seg.f) & _in("m_score", seg.m)
        chain = (
            pl.when(cond).then(pl.lit(seg.name))
            if chain is None
            else chain.when(cond).then(pl.lit(seg.name))
        )
    expr = chain.otherwise(pl.lit(None, pl.String)) if chain is not None else pl.lit(None)
    return pl.when(pl.col("orders") > 0).then(expr)


def _ladder(d: Settings) -> pl.Expr:
    """buyer -> repeat_buyer -> regular -> adherent -> advocate."""
    adherent = (
        (pl.col("regularity") == "regular")
        & (pl.col("tenure_months") >= d.ladder_adherent_min_months)
        & (
            pl.col("share_of_wallet").is_null()
            | (pl.col("share_of_wallet") >= d.ladder_adherent_min_wallet_share)
        )
    )
    return (
        pl.when(pl.col("orders") == 0)
        .then(pl.lit(None, pl.String))
        .when(pl.col("orders") == 1)
        .then(pl.lit("buyer"))
        .when(pl.col("regularity") != "regular")
        .then(pl.lit("repeat_buyer"))
        .when(adherent & (pl.col("nps_average") >= d.ladder_advocate_min_nps))
        .then(pl.lit("advocate"))
        .when(adherent)
        .then(pl.lit("adherent"))
        .otherwise(pl.lit("regular"))
    )
