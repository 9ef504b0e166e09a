"""The book's tables: list entries with derived lists materialised, and one client's own rows,
held in NumPy arrays so a cart's lookups are vectorised."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from services.pricing.domain.batch import I64, with_markup
from services.pricing.store import prices as store


def expand(lo: I64, hi: I64) -> tuple[I64, I64]:
    """For ranges [lo[i], hi[i]): (i, position) for every position, without a Python loop."""
    counts = hi - lo
    total = int(counts.sum())
    line = np.repeat(np.arange(len(lo), dtype=np.int64), counts)
    starts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    return line, starts + np.arange(total, dtype=np.int64)


@dataclass
class ListInfo:
    id: int
    code: str
    currency: str
    priority: int
    is_base: bool
    is_matrix: bool
    rank: int  # position by code: the tie-break between equal priorities
    valid_from: int
    valid_to: int


class EntryTable:
    """List entries sorted by (list, SKU, tier); derived lists already materialised."""

    def __init__(self, frame: pl.DataFrame, lists: pl.DataFrame) -> None:
        frame = _with_derived(frame, lists).sort("list_id", "sku_id", "min_qty")
        self.key = (frame["list_id"].to_numpy() << 32) | frame["sku_id"].to_numpy()
        self.min_qty = frame["min_qty"].to_numpy()
        self.price = frame["price"].to_numpy()
        self.valid_from = frame["valid_from"].to_numpy()
        self.valid_to = frame["valid_to"].to_numpy()

    def __len__(self) -> int:
        return len(self.key)

    def lookup(self, list_id: int, sku_ids: I64) -> tuple[I64, I64]:
        wanted = (np.int64(list_id) << 32) | sku_ids
        lo = np.searchsorted(self.key, wanted, "left")
        hi = np.searchsorted(self.key, wanted, "right")
        return expand(lo, hi)


def _with_derived(entries: pl.DataFrame, lists: pl.DataFrame) -> pl.DataFrame:
    """A list with a parent gets the parent's entries with its markup, level by level."""
    parts = [entries]
    done = set(entries["list_id"].unique().to_list()) | set(
        lists.filter(pl.col("parent_id") == 0)["id"].to_list()
    )
    pending = lists.filter(pl.col("parent_id") != 0)
    by_list = entries.partition_by("list_id", as_dict=True) if entries.height else {}
    derived: dict[int, pl.DataFrame] = {k[0]: v for k, v in by_list.items()}
    while pending.height:
        ready = pending.filter(pl.col("parent_id").is_in(list(done)))
        if ready.height == 0:
            break  # a cycle: the API refuses them, so never serve from one
        for list_id, parent_id, bp in ready.select("id", "parent_id", "markup_bp").iter_rows():
            parent = derived.get(parent_id)
            if parent is None:
                continue
            child = parent.with_columns(
                pl.lit(list_id, pl.Int64).alias("list_id"),
                with_markup(pl.col("price"), bp).alias("price"),
            )
            derived[list_id] = child
            parts.append(child)
        done |= set(ready["id"].to_list())
        pending = pending.filter(~pl.col("id").is_in(list(done)))
    return pl.concat(parts)


# Stored price rows keyed as price versions key them (domain.governance.KEY).
ROW_SCHEMA = {
    "target": pl.Utf8,
    "target_id": pl.Int64,
    "sku_id": pl.Int64,
    "min_qty": pl.Int64,
    "valid_from": pl.Int64,
    "price": pl.Int64,
    "valid_to": pl.Int64,
    "currency": pl.Utf8,
}


def entry_rows(entries: pl.DataFrame) -> pl.DataFrame:
    """Stored list entries (store.prices.ENTRY_SCHEMA) keyed as price versions key them."""
    return entries.select(
        pl.lit("L").alias("target"),
        pl.col("list_id").alias("target_id"),
        "sku_id",
        "min_qty",
        "valid_from",
        "price",
        "valid_to",
        pl.lit("").alias("currency"),
    )


def entry_table(rows: pl.DataFrame, lists: pl.DataFrame) -> EntryTable:
    """An entry table from keyed list rows (after undoing or applying changes)."""
    return EntryTable(
        rows.select(
            pl.col("target_id").alias("list_id"),
            "sku_id",
            "min_qty",
            "price",
            "valid_from",
            "valid_to",
        ),
        lists,
    )


def _contract_arrays(rows: pl.DataFrame) -> dict[str, np.ndarray]:
    """A client's contract rows as the arrays ClientPrices keeps, a field each."""
    return {
        "sku": rows["sku_id"].to_numpy(),
        "min_qty": rows["min_qty"].to_numpy(),
        "price": rows["price"].to_numpy(),
        "currency": rows["currency"].to_numpy().astype("U3"),
        "valid_from": rows["valid_from"].to_numpy(),
        "valid_to": rows["valid_to"].to_numpy(),
    }


@dataclass
class ClientPrices:
    row: store.ClientRow
    sku: I64
    min_qty: I64
    price: I64
    currency: np.ndarray
    valid_from: I64
    valid_to: I64
    gaps: I64
    loaded_at: float = field(default_factory=time.monotonic)

    @classmethod
    def build(cls, row: store.ClientRow, frame: pl.DataFrame) -> ClientPrices:
        rows, gaps = frame.filter(pl.col("gap") == 0), frame.filter(pl.col("gap") == 1)
        return cls(row=row, **_contract_arrays(rows), gaps=np.sort(gaps["sku_id"].to_numpy()))

    @property
    def size(self) -> int:
        return len(self.sku) + len(self.gaps) + 1

    def rows(self, sku_id: int | None = None) -> pl.DataFrame:
        """The contract rows (of one SKU, or all) keyed as price versions key them."""
        at = self.sku == sku_id if sku_id is not None else slice(None)
        return pl.DataFrame(
            {
                "target": "C",
                "target_id": self.row.id,
                "sku_id": self.sku[at],
                "min_qty": self.min_qty[at],
                "valid_from": self.valid_from[at],
                "price": self.price[at],
                "valid_to": self.valid_to[at],
                "currency": self.currency[at].astype(str),
            },
            schema=ROW_SCHEMA,
        )

    def with_rows(self, rows: pl.DataFrame) -> ClientPrices:
        """The same client with other contract rows (a past moment's, or a proposal's)."""
        rows = rows.sort("sku_id", "min_qty")
        return ClientPrices(row=self.row, **_contract_arrays(rows), gaps=self.gaps)
