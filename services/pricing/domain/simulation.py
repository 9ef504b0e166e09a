"""What a proposed price change would have earned: actual volumes priced twice.

Each (client, SKU) the client bought in the period is priced as things stand and as they
would stand with the change, at the client's typical order quantity (tiers count); revenue is
quantity x unit price, margin is revenue less quantity x the SKU's cost (when the cost is in
the same currency). Totals per currency and per segment.
"""

from __future__ import annotations

from typing import Any

import polars as pl

# Input columns: client, segment, currency, sku, quantity (decimal as float is fine: volumes
# are summed in thousandths upstream), unit_before, unit_after (null: no price), cost.
SUMS = [
    "revenue_before_minor",
    "revenue_after_minor",
    "revenue_change_minor",
    "margin_before_minor",
    "margin_after_minor",
    "margin_change_minor",
]


def priced(lines: pl.DataFrame) -> pl.DataFrame:
    """Per line: revenue and margin before and after, rounded half up to a minor unit."""
    qty = pl.col("quantity_milli")

    def money(unit: str) -> pl.Expr:
        # quantity in thousandths: (q * p + 500) // 1000 rounds half up on positive amounts
        return ((qty * pl.col(unit) + 500) // 1000).fill_null(0)

    return (
        lines.with_columns(
            money("unit_before").alias("revenue_before_minor"),
            money("unit_after").alias("revenue_after_minor"),
            money("cost").alias("cost_minor_total"),
        )
        .with_columns(
            (pl.col("revenue_after_minor") - pl.col("revenue_before_minor")).alias(
                "revenue_change_minor"
            ),
            pl.when(pl.col("cost").is_not_null())
            .then(pl.col("revenue_before_minor") - pl.col("cost_minor_total"))
            .alias("margin_before_minor"),
            pl.when(pl.col("cost").is_not_null())
            .then(pl.col("revenue_after_minor") - pl.col("cost_minor_total"))
            .alias("margin_after_minor"),
        )
        .with_columns(
            (pl.col("margin_after_minor") - pl.col("margin_before_minor")).alias(
                "margin_change_minor"
            )
        )
    )


def _totals(frame: pl.DataFrame, by: list[str]) -> list[dict[str, Any]]:
    if frame.height == 0:
        return []
    return (
        frame.group_by(by)
        .agg(
            pl.col("client").n_unique().alias("clients"),
            pl.len().alias("lines"),
            *(pl.col(c).sum() for c in SUMS),
            pl.col("cost").is_null().sum().alias("lines_without_cost"),
        )
        .sort(by)
        .to_dicts()
    )


def effect(lines: pl.DataFrame, top: int = 20) -> dict[str, Any]:
    """Totals per currency, per segment and currency, and the clients most affected."""
    rows = priced(lines)
    clients = (
        rows.group_by("client", "segment", "currency")
        .agg(*(pl.col(c).sum() for c in SUMS))
        .filter(pl.col("revenue_change_minor") != 0)
        .sort(pl.col("revenue_change_minor").abs(), "client", descending=[True, False])
        .head(top)
        .to_dicts()
        if rows.height
        else []
    )
    return {
        "totals": _totals(rows, ["currency"]),
        "by_segment": _totals(rows, ["segment", "currency"]),
        "clients": clients,
    }
