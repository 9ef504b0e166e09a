"""The price feed's row rules, pure: the kernel's checks, then codes mapped to ids, unknown
clients, lists and SKUs, currencies, repeated cells (a bitmap over client x SKU) and
overlapping validity within the file. Which cells a full client feed may factor."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from shared.feeds.spec import FeedSpec
from shared.feeds.validation import (
    REJECTION_SCHEMA,
    ROW,
    check_frame,
)
from shared.pgcopy import DATE_NEG_INF, DATE_POS_INF

ONE = 1000  # min_qty 1 in thousandths


@dataclass
class References:
    clients: pl.DataFrame  # client, client_id
    lists: pl.DataFrame  # list, list_id, list_currency, is_matrix
    skus: pl.DataFrame  # sku, sku_id

    @property
    def bitmap_bytes(self) -> int:
        return self.width * (int(self.clients["client_id"].max() or 0) + 1) // 8 + 1

    @property
    def width(self) -> int:
        return int(self.skus["sku_id"].max() or 0) + 1


def _rejection(
    frame: pl.DataFrame,
    mask: pl.Expr,
    field: str,
    reason: pl.Expr | str,
    value: pl.Expr | None = None,
) -> pl.DataFrame:
    if value is None:
        value = pl.col(field) if field in frame.columns else pl.lit(None)
    return frame.filter(mask).select(
        ROW,
        pl.lit(field).alias("field"),
        (reason if isinstance(reason, pl.Expr) else pl.lit(reason)).alias("reason"),
        value.cast(pl.Utf8).alias("value"),
    )


@dataclass
class Checked:
    cells: pl.DataFrame  # factorable client cells (min_qty 1, open validity, upsert)
    others: pl.DataFrame  # list rows, tiered or dated client cells, deletes
    rejections: pl.DataFrame


def check_batch(spec: FeedSpec, raw: pl.DataFrame, refs: References) -> Checked:
    checked = check_frame(spec, raw)
    rows = (
        checked.valid.join(refs.clients, on="client", how="left")
        .join(refs.lists, on="list", how="left")
        .join(refs.skus, on="sku", how="left")
    )
    bad = [
        checked.rejections,
        _rejection(
            rows,
            pl.col("client").is_not_null() & pl.col("client_id").is_null(),
            "client",
            "is not a known client (ERP id)",
        ),
        _rejection(
            rows,
            pl.col("list").is_not_null() & pl.col("list_id").is_null(),
            "list",
            "is not a known price list",
        ),
        _rejection(
            rows,
            pl.col("is_matrix").fill_null(False),
            "list",
            "is derived from a matrix feed; send client prices instead",
        ),
        _rejection(rows, pl.col("sku_id").is_null(), "sku", "is not a known SKU"),
        _rejection(
            rows,
            pl.col("list_id").is_not_null() & (pl.col("currency") != pl.col("list_currency")),
            "currency",
            pl.format("differs from the list's currency {}", pl.col("list_currency")),
        ),
    ]
    rejections = pl.concat([b.cast(REJECTION_SCHEMA) for b in bad])
    rows = rows.join(rejections.select(ROW).unique(), on=ROW, how="anti").select(
        ROW,
        "client_id",
        "list_id",
        "sku_id",
        ((pl.col("min_qty").fill_null(1) * 1000).cast(pl.Int64)).alias("min_qty"),
        pl.col("price_minor").alias("price"),
        "currency",
        _days("valid_from", DATE_NEG_INF),
        _days("valid_to", DATE_POS_INF),
        (pl.col("action").fill_null("upsert") == "delete").alias("delete"),
    )
    factorable = (
        pl.col("client_id").is_not_null()
        & ~pl.col("delete")
        & (pl.col("min_qty") == ONE)
        & (pl.col("valid_from") == DATE_NEG_INF)
        & (pl.col("valid_to") == DATE_POS_INF)
    )
    return Checked(
        cells=rows.filter(factorable).select(ROW, "client_id", "sku_id", "price", "currency"),
        others=rows.filter(~factorable),
        rejections=rejections,
    )


def _days(column: str, open_value: int) -> pl.Expr:
    return pl.col(column).cast(pl.Int32).cast(pl.Int64).fill_null(open_value).alias(column)


class CellIndex:
    """Which (client, SKU) cells the file has given: a bitmap, so duplicates cost no memory."""

    def __init__(self, refs: References) -> None:
        self.width = refs.width
        self.bits = np.zeros(refs.bitmap_bytes, np.uint8)

    def positions(self, client_id: np.ndarray, sku_id: np.ndarray) -> np.ndarray:
        return client_id.astype(np.int64) * self.width + sku_id.astype(np.int64)

    def seen(self, positions: np.ndarray) -> np.ndarray:
        return ((self.bits[positions >> 3] >> (positions & 7).astype(np.uint8)) & 1).astype(bool)

    def add(self, cells: pl.DataFrame) -> pl.DataFrame:
        """Mark the batch's cells; return rejections for cells given before (or twice here)."""
        at = self.positions(cells["client_id"].to_numpy(), cells["sku_id"].to_numpy())
        repeated = self.seen(at)
        _, first = np.unique(at, return_index=True)
        again = np.ones(len(at), bool)
        again[first] = False
        duplicate = repeated | again
        np.bitwise_or.at(self.bits, at >> 3, (1 << (at & 7)).astype(np.uint8))
        return _rejection(
            cells.filter(pl.Series(duplicate)),
            pl.lit(True),
            "sku",
            "repeats this client's price for the SKU at quantity 1",
        ).cast(REJECTION_SCHEMA)


def check_others(others: pl.DataFrame, cells: CellIndex) -> pl.DataFrame:
    """Duplicate keys and overlapping validity among list rows and dated or tiered cells."""
    keyed = others.with_columns(
        pl.when(pl.col("list_id").is_not_null())
        .then(pl.format("L{}", pl.col("list_id")))
        .otherwise(pl.format("C{}", pl.col("client_id")))
        .alias("target")
    ).sort("target", "sku_id", "min_qty", "valid_from", ROW)
    group = ["target", "sku_id", "min_qty"]
    marked = keyed.with_columns(
        pl.col("valid_from").shift(1).over(group).alias("prev_from"),
        pl.col(ROW).shift(1).over(group).alias("prev_row"),
    )
    shown = pl.when(pl.col("valid_from") != DATE_NEG_INF).then(pl.col("valid_from").cast(pl.Date))
    duplicate = _rejection(
        marked,
        pl.col("valid_from") == pl.col("prev_from"),
        "valid_from",
        pl.format("repeats the key of row {}", pl.col("prev_row")),
        shown,
    )
    # A delete holds no validity: deleting the open price and giving a dated one for the
    # same cell is one ERP message ("the standing price is gone; this month's is X").
    # Each row meets the furthest end any earlier row reached, not only its neighbour's:
    # a short row inside a long one must not hide a later row inside it too.
    live = keyed.filter(~pl.col("delete")).with_columns(
        pl.col("valid_to").cum_max().over(group).alias("reach")
    )
    reached = live.with_columns(
        pl.col("reach").shift(1).over(group).alias("prev_reach"),
        pl.when(pl.col("valid_to") == pl.col("reach"))
        .then(pl.col(ROW))
        .forward_fill()
        .shift(1)
        .over(group)
        .alias("reach_row"),
        pl.col("valid_from").shift(1).over(group).alias("prev_from"),
    )
    overlap = _rejection(
        reached,
        (pl.col("valid_from") != pl.col("prev_from"))
        & (pl.col("valid_from") < pl.col("prev_reach")),
        "valid_from",
        pl.format("overlaps the validity of row {}", pl.col("reach_row")),
        shown,
    )
    # A dated price at quantity 1 next to the same client's open-ended one.
    dated = others.filter(
        pl.col("client_id").is_not_null() & ~pl.col("delete") & (pl.col("min_qty") == ONE)
    )
    clash = (
        dated.filter(
            pl.Series(
                cells.seen(
                    cells.positions(dated["client_id"].to_numpy(), dated["sku_id"].to_numpy())
                )
            )
        )
        if dated.height
        else dated
    )
    open_clash = _rejection(
        clash, pl.lit(True), "valid_from", "overlaps this client's open-ended price for the SKU"
    )
    return pl.concat([r.cast(REJECTION_SCHEMA) for r in (duplicate, overlap, open_clash)])


class Rejected(Exception):
    """The database found bad rows (validity overlapping stored prices): roll back."""

    def __init__(self, rejections: pl.DataFrame) -> None:
        super().__init__(f"{rejections.height} rows rejected")
        self.rejections = rejections
