"""The base-wide figures each client is classified against, per currency: ABC cut-offs, RFM
quintile breakpoints, the median check, the sales total and the average lifetime."""

from __future__ import annotations

import polars as pl

from services.analytics.domain.definitions import Definitions
from services.analytics.domain.facts import QUINTILE_BREAKS

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


def abc_by_currency(frame: pl.LazyFrame, key: str, value: str, d: Definitions) -> pl.LazyFrame:
    """ABC of `value` per currency, each row named by `key` (the result's "key")."""
    return abc_classes(
        frame.select(pl.col(key).alias("key"), "currency", value),
        value,
        "currency",
        d.abc_a_share,
        d.abc_b_share,
    )


def xyz_class(cv: str, unclassified: pl.Expr, d: Definitions) -> pl.Expr:
    """XYZ by a coefficient of variation: X up to `xyz_x_max`, Y up to `xyz_y_max`, Z above or
    with no variation known (no purchases); none where `unclassified` (too little history)."""
    return (
        pl.when(unclassified)
        .then(pl.lit(None, pl.String))
        .when(pl.col(cv).is_null())
        .then(pl.lit("Z"))
        .when(pl.col(cv) <= d.xyz_x_max)
        .then(pl.lit("X"))
        .when(pl.col(cv) <= d.xyz_y_max)
        .then(pl.lit("Y"))
        .otherwise(pl.lit("Z"))
    )


def _cutoffs(classes: pl.LazyFrame, value: str, prefix: str) -> pl.LazyFrame:
    """The smallest value in A and in B: classifying against them reproduces the classes."""
    return classes.group_by("currency").agg(
        pl.col(value).filter(pl.col("abc") == "A").min().alias(f"{prefix}_a_min"),
        pl.col(value).filter(pl.col("abc") == "B").min().alias(f"{prefix}_b_min"),
    )


def base_stats(figures: pl.LazyFrame, d: Definitions) -> pl.DataFrame:
    """Per currency: ABC cut-offs, RFM breakpoints, median check, sales total, lifetime."""
    buyers = figures.filter(pl.col("orders") > 0)
    revenue = abc_by_currency(buyers, "client_id", "abc_revenue_minor", d)
    margin = abc_by_currency(
        buyers.filter(pl.col("abc_costed_minor") > 0), "client_id", "abc_margin_minor", d
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
