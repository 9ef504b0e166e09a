"""Which clients an event of stock or prices concerns, by their own purchases. Plain polars."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from services.analytics.domain.base_stats import abc_classes
from services.analytics.domain.definitions import Definitions


def out_of_stock(before: Decimal | None, after: Decimal) -> bool:
    """Available somewhere before (over every warehouse we knew of), nowhere now. A SKU never
    seen before is not "run out": we do not know it ever was in stock."""
    return before is not None and before > 0 >= after


def key_sku_clients(purchases: pl.DataFrame, sku: str, d: Definitions) -> pl.DataFrame:
    """The clients for whom `sku` is class A of their own purchases.

    `purchases`: per client and SKU, the revenue in the ABC window (client_id, sku,
    revenue_minor, last_at, currency). Each client's SKUs are ranked by ABC exactly as clients
    are ranked in the base (`abc_classes`: A up to `abc_a_share` of the client's total).
    Returns client_id, currency, revenue_minor, revenue_share, last_at."""
    classes = abc_classes(
        purchases.lazy().select(pl.col("sku").alias("key"), "client_id", "revenue_minor"),
        "revenue_minor",
        "client_id",
        d.abc_a_share,
        d.abc_b_share,
    )
    totals = purchases.lazy().group_by("client_id").agg(total=pl.col("revenue_minor").sum())
    return (
        classes.filter(pl.col("key") == sku, pl.col("abc") == "A")
        .join(totals, on="client_id")
        .join(
            purchases.lazy()
            .filter(pl.col("sku") == sku)
            .select("client_id", "currency", "last_at"),
            on="client_id",
        )
        .select(
            "client_id",
            "currency",
            "revenue_minor",
            revenue_share=(pl.col("revenue_minor") / pl.col("total")).round(4),
            last_at=pl.col("last_at"),
        )
        .sort("client_id")
        .collect()
    )


def price_moves(last_paid: pl.DataFrame, now: pl.DataFrame, min_percent: float) -> pl.DataFrame:
    """The SKUs whose price now moved at least `min_percent` from what the client last paid.

    `last_paid`: client_id, sku, name, currency, quantity, unit_price_minor (the last purchase);
    `now`: client_id, sku, new_unit_price_minor (the same quantity priced today; null when the
    client has no price any more, which is not a move we can state). Returns the moves with
    old_unit_price_minor, new_unit_price_minor and change_percent (2 decimals), per client."""
    return (
        last_paid.lazy()
        .join(now.lazy(), on=["client_id", "sku"])
        .filter(pl.col("new_unit_price_minor").is_not_null(), pl.col("unit_price_minor") > 0)
        .with_columns(
            change_percent=(
                (pl.col("new_unit_price_minor") - pl.col("unit_price_minor"))
                * 100
                / pl.col("unit_price_minor")
            ).round(2)
        )
        .filter(pl.col("change_percent").abs() >= min_percent)
        .select(
            "client_id",
            "sku",
            "name",
            "currency",
            "quantity",
            pl.col("unit_price_minor").alias("old_unit_price_minor"),
            "new_unit_price_minor",
            "change_percent",
        )
        .sort("client_id", "sku")
        .collect()
    )
