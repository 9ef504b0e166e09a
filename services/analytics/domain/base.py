"""Whether the base statistics of the last full recompute still describe the base.

An event's recompute classifies a few clients against stored statistics (ABC cut-offs, RFM
breakpoints, the median check, the sales total). After a bulk import of history they describe
a base that no longer exists: a client's share of a stale sales total reads 4.48, and false
critical dependencies, concentration alerts and segment changes go out. So the base's sales
total and number of buyers are first brought up to date (the other clients as last recomputed,
plus the batch's new figures). When either moved by more than `base_move_share` since the
statistics were computed, they are stale and the whole base is recomputed; otherwise the batch
is classified against them, its shares against the current total (a share is then at most 1:
the total holds the client's own sales).
"""

from __future__ import annotations

import polars as pl


def current_base(
    stored: pl.DataFrame, others: pl.DataFrame, batch: pl.DataFrame, move_share: float
) -> pl.DataFrame | None:
    """The stored statistics with each currency's current sales total, or None if the base
    moved. `others`: per currency, `sales_minor` and `buyers` of the clients outside the
    batch as last recomputed; `batch`: the batch's client figures (`client_figures`)."""
    mine = (
        batch.filter(pl.col("orders") > 0)
        .group_by("currency")
        .agg(sales_minor=pl.col("abc_revenue_minor").fill_null(0).sum(), buyers=pl.len())
    )
    columns = [
        pl.col("currency"),
        pl.col("sales_minor").cast(pl.Int64).alias("sales_now"),
        pl.col("buyers").cast(pl.Int64).alias("buyers_now"),
    ]
    now = (
        pl.concat([others.select(columns), mine.select(columns)])
        .group_by("currency")
        .agg(pl.col("sales_now", "buyers_now").sum())
    )
    compared = stored.join(now, "currency", "left").with_columns(
        pl.col("sales_now", "buyers_now").fill_null(0)
    )

    def moved(now: str, then: str) -> pl.Expr:
        return (pl.col(now) - pl.col(then)).abs() > move_share * pl.col(then)

    if compared.select(
        (moved("sales_now", "sales_total_minor") | moved("buyers_now", "buyers")).any()
    ).item():
        return None
    return compared.with_columns(sales_total_minor=pl.col("sales_now")).drop(
        "sales_now", "buyers_now"
    )
