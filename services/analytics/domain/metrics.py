"""Client metrics and segments in polars: columnar, lazy, no per-client Python loop.

`client_metrics(facts, as_of, definitions)` turns the facts into one row per client with every
figure and segment. The base-relative parts (ABC cut-offs, RFM quintile breakpoints, the base's
median check, total sales, average lifetime) come from `base_stats`; a full recompute derives
them from the whole base, one client's recompute after an event reuses the stored ones, so
both paths classify with the same code.

The facts and their calendar are in `facts.py`, each client's raw figures in `figures.py`, the
base statistics in `base_stats.py`; this module classifies.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from services.analytics.domain.base_stats import base_stats, xyz_class
from services.analytics.domain.concentration import concentration_level
from services.analytics.domain.definitions import Definitions
from services.analytics.domain.facts import Facts
from services.analytics.domain.figures import client_figures
from services.analytics.domain.tables import matrix_actions, rfm_segments


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
    facts: Facts, as_of: datetime, d: Definitions, base: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(one row per client with every figure and segment, the base stats used).

    `base` None: derive the base stats from these facts (a full recompute)."""
    figures = client_figures(facts, as_of, d).collect()
    if base is None:
        base = base_stats(figures.lazy(), d)
    return classify(figures, base, d), base


def classify(figures: pl.DataFrame, base: pl.DataFrame, d: Definitions) -> pl.DataFrame:
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
        xyz=xyz_class("xyz_cv", ~has_orders | (pl.col("months_in_xyz") < d.xyz_min_months), d),
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


def _rfm_segment(d: Definitions) -> pl.Expr:
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


def _ladder(d: Definitions) -> pl.Expr:
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
