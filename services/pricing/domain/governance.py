"""Price governance rules: what a change does (its diff), what it may not do (guardrails),
and how stored prices look with a change applied or undone. Plain polars, no database.

A diff has one row per stored price row the change adds, changes or removes:
`_row` (the feed row; null for a row a full feed retires), `target` ('L' list entry or 'C'
client price), `target_id`, `list_code` (null for client prices), `client` (the client's
ERP id for client prices), `sku`, `sku_id`, `min_qty` (thousandths), `valid_from` (days
since 1970, the extreme int32 when open), `currency`, `old_price` and `new_price` (null: the
row does not exist before / after), `cost_minor` and `floor_minor` (null when unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl

DEFAULT = "*"  # the guardrail of lists without their own, and of clients' own prices
TOP = 10
# Buckets of the % change distribution, in percent: [from, to), the last one open.
EDGES = [-50.0, -20.0, -10.0, -5.0, -1.0, 0.0, 1.0, 5.0, 10.0, 20.0, 50.0]


@dataclass(frozen=True)
class Limits:
    code: str  # a list code, or DEFAULT
    max_row_change_percent: Decimal | None = None
    max_feed_change_percent: Decimal | None = None
    min_margin_percent: Decimal | None = None
    enforce_floor: bool = True
    requires_approval: bool = False


def _limits_frame(limits: list[Limits]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "guardrail": [x.code for x in limits],
            "max_row": [_float(x.max_row_change_percent) for x in limits],
            "max_feed": [_float(x.max_feed_change_percent) for x in limits],
            "min_margin": [_float(x.min_margin_percent) for x in limits],
            "enforce_floor": [x.enforce_floor for x in limits],
            "requires_approval": [x.requires_approval for x in limits],
        },
        schema={
            "guardrail": pl.Utf8,
            "max_row": pl.Float64,
            "max_feed": pl.Float64,
            "min_margin": pl.Float64,
            "enforce_floor": pl.Boolean,
            "requires_approval": pl.Boolean,
        },
    )


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def with_limits(diff: pl.DataFrame, limits: list[Limits]) -> pl.DataFrame:
    """Each diff row with the guardrail that governs it: its list's own, else the default.
    A row no guardrail governs gets the floor check only (a floor is never to be crossed)."""
    codes = {x.code for x in limits}
    governed = diff.with_columns(
        pl.when(pl.col("list_code").is_in(list(codes - {DEFAULT})))
        .then(pl.col("list_code"))
        .otherwise(pl.lit(DEFAULT))
        .alias("guardrail")
    )
    return governed.join(_limits_frame(limits), on="guardrail", how="left").with_columns(
        pl.col("enforce_floor").fill_null(True), pl.col("requires_approval").fill_null(False)
    )


def _change_percent() -> pl.Expr:
    return (pl.col("new_price") - pl.col("old_price")) * 100.0 / pl.col("old_price")


def _label() -> pl.Expr:
    return (
        pl.when(pl.col("target") == "L")
        .then(pl.format("list {}", pl.col("list_code")))
        .otherwise(pl.lit("client prices"))
    )


def breaches(diff: pl.DataFrame, limits: list[Limits]) -> pl.DataFrame:
    """The rows (and whole-feed limits) a change breaks: `_row, field, reason, value`, the
    rejection report's shape. Row 0 stands for the whole feed."""
    rows = with_limits(diff, limits).filter(pl.col("new_price").is_not_null())
    rows = rows.with_columns(
        _change_percent().alias("change"),
        ((pl.col("new_price") - pl.col("cost_minor")) * 100.0 / pl.col("new_price")).alias(
            "margin"
        ),
    )
    found = [
        rows.filter(pl.col("change").abs() > pl.col("max_row")).select(
            "_row",
            pl.lit("price_minor").alias("field"),
            pl.format(
                "changes the price from {} by {} % (at most {} % on {})",
                pl.col("old_price"),
                pl.col("change").round(2),
                pl.col("max_row"),
                _label(),
            ).alias("reason"),
            pl.col("new_price").cast(pl.Utf8).alias("value"),
        ),
        rows.filter(pl.col("enforce_floor") & (pl.col("new_price") < pl.col("floor_minor"))).select(
            "_row",
            pl.lit("price_minor").alias("field"),
            pl.format("is below the SKU's floor {}", pl.col("floor_minor")).alias("reason"),
            pl.col("new_price").cast(pl.Utf8).alias("value"),
        ),
        rows.filter(pl.col("margin") < pl.col("min_margin")).select(
            "_row",
            pl.lit("price_minor").alias("field"),
            pl.format(
                "leaves a margin of {} % over the cost {} (at least {} % on {})",
                pl.col("margin").round(2),
                pl.col("cost_minor"),
                pl.col("min_margin"),
                _label(),
            ).alias("reason"),
            pl.col("new_price").cast(pl.Utf8).alias("value"),
        ),
    ]
    feed = (
        rows.filter(pl.col("old_price").is_not_null() & pl.col("max_feed").is_not_null())
        .group_by("guardrail", "target", "list_code")
        .agg(pl.col("change").abs().mean().alias("mean"), pl.col("max_feed").first())
        .filter(pl.col("mean") > pl.col("max_feed"))
        .sort("guardrail", "list_code", nulls_last=True)
    )
    found.append(
        feed.select(
            pl.lit(0, pl.Int64).alias("_row"),
            pl.lit("feed").alias("field"),
            pl.format(
                "changes prices of {} by {} % on average (at most {} %)",
                _label(),
                pl.col("mean").round(2),
                pl.col("max_feed"),
            ).alias("reason"),
            pl.lit(None, pl.Utf8).alias("value"),
        )
    )
    schema = {"_row": pl.Int64, "field": pl.Utf8, "reason": pl.Utf8, "value": pl.Utf8}
    return pl.concat([f.cast(schema) for f in found]).sort("_row", "field", "reason")  # type: ignore[arg-type]


def needs_approval(diff: pl.DataFrame, limits: list[Limits]) -> list[str]:
    """What of the change waits for a second person: list codes, `*` for client prices."""
    governed = with_limits(diff, limits).filter(pl.col("requires_approval"))
    return sorted(
        governed.select(pl.col("list_code").fill_null(DEFAULT)).unique().to_series().to_list()
    )


def summarise(diff: pl.DataFrame) -> dict[str, Any]:
    """What a reviewer reads before the change applies: counts, the distribution of the %
    change, and the SKUs, clients and lists most affected."""
    added = diff.filter(pl.col("old_price").is_null())
    removed = diff.filter(pl.col("new_price").is_null())
    changed = diff.filter(pl.col("old_price").is_not_null() & pl.col("new_price").is_not_null())
    change = changed.select(_change_percent().alias("change"))["change"]
    counts = np.bincount(
        np.searchsorted(EDGES, change.to_numpy(), "right"), minlength=len(EDGES) + 1
    )
    bounds = ["-inf", *(f"{e:g}" for e in EDGES), "inf"]
    affected = diff.with_columns(
        pl.when(pl.col("old_price").is_null() | pl.col("new_price").is_null())
        .then(None)
        .otherwise(_change_percent())
        .alias("change")
    )

    def top(by: str) -> list[dict[str, Any]]:
        rows = affected.filter(pl.col(by).is_not_null())
        if rows.height == 0:
            return []
        return (
            rows.group_by(by)
            .agg(
                pl.len().alias("rows"),
                pl.col("change").abs().max().round(2).alias("max_change_percent"),
            )
            .sort(["rows", "max_change_percent", by], descending=[True, True, False])
            .head(TOP)
            .to_dicts()
        )

    return {
        "rows_added": added.height,
        "rows_changed": changed.height,
        "rows_removed": removed.height,
        "change_percent": {
            "min": _round(change.min()),
            "mean": _round(change.mean()),
            "max": _round(change.max()),
            "buckets": [
                {"from": bounds[i], "to": bounds[i + 1], "rows": int(n)}
                for i, n in enumerate(counts)
                if n
            ],
        },
        "top_skus": top("sku"),
        "top_clients": top("client"),
        "lists": top("list_code"),
    }


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


KEY = ["target", "target_id", "sku_id", "min_qty", "valid_from"]
# A change of a version as a frame: its KEY, its currency, the row before and after (days as
# day numbers; a null price: no row).
CHANGE_SCHEMA = {
    "target": pl.Utf8,
    "target_id": pl.Int64,
    "sku_id": pl.Int64,
    "min_qty": pl.Int64,
    "valid_from": pl.Int64,
    "currency": pl.Utf8,
    "old_price": pl.Int64,
    "old_valid_to": pl.Int64,
    "new_price": pl.Int64,
    "new_valid_to": pl.Int64,
}


def undo(rows: pl.DataFrame, changes: pl.DataFrame) -> pl.DataFrame:
    """Stored rows as they were before `changes` (newest first, already ordered so).

    `rows`: the stored rows now, keyed by KEY, with price, valid_to and currency. `changes`:
    version rows (KEY, currency, old_price, old_valid_to, new_price, new_valid_to). Each
    change's key gets its old row back (or none); the oldest change of a key decides.
    """
    if changes.height == 0:
        return rows
    return _put(rows, changes.unique(KEY, keep="last", maintain_order=True), "old")


def apply(rows: pl.DataFrame, changes: pl.DataFrame) -> pl.DataFrame:
    """Stored rows as they would be with `changes` applied (what a simulation prices)."""
    if changes.height == 0:
        return rows
    return _put(rows, changes, "new")


def _put(rows: pl.DataFrame, changes: pl.DataFrame, side: str) -> pl.DataFrame:
    """`rows` with each changed key's row replaced by the change's `side` (old or new) row,
    or removed where that side has none."""
    kept = rows.join(changes.select(KEY), on=KEY, how="anti")
    put = changes.filter(pl.col(f"{side}_price").is_not_null()).select(
        *KEY,
        pl.col(f"{side}_price").alias("price"),
        pl.col(f"{side}_valid_to").alias("valid_to"),
        "currency",
    )
    return pl.concat([kept, put.cast(kept.schema)])  # type: ignore[arg-type]
