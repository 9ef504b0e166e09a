"""The shared part of the price book: lists, SKUs, floors and promotions, and how a client's
candidates and adjustments are gathered from it and its own rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from services.pricing.domain.batch import (
    I64,
    Adjustments,
    Candidates,
    origin_key,
    usable_candidates,
    with_markup,
)
from services.pricing.domain.ladder import levels_of, progress
from services.pricing.domain.resolution import Source
from services.pricing.price_book.tables import ClientPrices, EntryTable, ListInfo, expand
from services.pricing.store import prices as store


@dataclass
class Gathered:
    """Every candidate for a cart, with where it came from; `usable` marks the live ones."""

    line: I64
    source: I64
    priority: I64
    list_id: I64  # 0 for the client's own prices
    rank: I64
    min_qty: I64
    price: I64
    currency: np.ndarray
    valid_from: I64
    valid_to: I64
    matrix: np.ndarray  # bool: from the client's derived matrix list

    def usable(self, currency: str, day: int) -> np.ndarray:
        live = (self.currency == currency) & (self.valid_from <= day) & (day < self.valid_to)
        return usable_candidates(self.line, self.source, self.min_qty, self.matrix, live)

    def candidates(self, keep: np.ndarray) -> Candidates:
        return Candidates(
            line=self.line[keep],
            key=origin_key(self.source[keep], self.priority[keep], self.rank[keep]),
            min_qty=self.min_qty[keep],
            price=self.price[keep],
        )


class PriceBook:
    """The shared part: lists and their entries, SKUs, floors, promotions."""

    def __init__(
        self,
        lists: pl.DataFrame,
        groups: dict[str, list[int]],
        skus: pl.DataFrame,
        floors: pl.DataFrame,
        promotions: pl.DataFrame,
    ) -> None:
        self.list_frame = lists
        self.lists = {
            r["id"]: ListInfo(
                id=r["id"],
                code=r["code"],
                currency=r["currency"],
                priority=r["priority"],
                is_base=r["is_base"],
                is_matrix=r["is_matrix"],
                rank=rank + 1,
                valid_from=r["valid_from"],
                valid_to=r["valid_to"],
            )
            for rank, r in enumerate(lists.iter_rows(named=True))
        }
        self.by_rank = {info.rank: info for info in self.lists.values()}
        self.parents = dict(zip(lists["id"].to_list(), lists["parent_id"].to_list(), strict=True))
        self.base_lists = [i.id for i in self.lists.values() if i.is_base]
        self.groups = groups
        self.sku_id = dict(zip(skus["sku"].to_list(), skus["id"].to_list(), strict=True))
        size = int(skus["id"].max() or 0) + 1 if skus.height else 1
        self.sku_code = np.full(size, "", dtype=object)
        self.sku_code[skus["id"].to_numpy()] = skus["sku"].to_numpy()
        self.brands = ["", *sorted(set(skus["brand"].to_list()) - {""})]
        self.categories = ["", *sorted(set(skus["category"].to_list()) - {""})]
        self.brand_of = np.zeros(size, np.int64)
        self.category_of = np.zeros(size, np.int64)
        brand_index = {b: i for i, b in enumerate(self.brands)}
        category_index = {c: i for i, c in enumerate(self.categories)}
        ids = skus["id"].to_numpy()
        self.brand_of[ids] = np.array([brand_index[b] for b in skus["brand"].to_list()], np.int64)
        self.category_of[ids] = np.array(
            [category_index[c] for c in skus["category"].to_list()], np.int64
        )
        self.floors = {
            cur: (g["sku_id"].to_numpy(), g["price"].to_numpy())
            for (cur,), g in floors.partition_by("currency", as_dict=True).items()
        }
        self.promotions = promotions
        self.entries: EntryTable | None = None
        self.version = 0  # the latest price version when the book was read

    def root_lists(self, list_ids: list[int]) -> list[int]:
        """The lists whose stored entries these lists read (themselves or their ancestors)."""
        found = set(list_ids)
        frontier = list(list_ids)
        while frontier:
            parent = self.parents.get(frontier.pop(), 0)
            if parent and parent not in found:
                found.add(parent)
                frontier.append(parent)
        return sorted(found)

    def lists_of(self, client: store.ClientRow) -> list[tuple[Source, int]]:
        chosen = [(Source.ASSIGNED_LIST, i) for i in client.list_ids]
        chosen += [(Source.GROUP_LIST, i) for i in self.groups.get(client.group_code or "", [])]
        chosen += [(Source.BASE_LIST, i) for i in self.base_lists]
        return [(s, i) for s, i in chosen if i in self.lists]

    def gather(self, client: ClientPrices, sku_ids: I64, entries: EntryTable) -> Gathered:
        parts: list[dict[str, Any]] = []
        lo = np.searchsorted(client.sku, sku_ids, "left")
        hi = np.searchsorted(client.sku, sku_ids, "right")
        line, pos = expand(lo, hi)
        parts.append(
            {
                "line": line,
                "source": np.full(len(line), Source.CONTRACT, np.int64),
                "priority": np.zeros(len(line), np.int64),
                "list_id": np.zeros(len(line), np.int64),
                "rank": np.zeros(len(line), np.int64),
                "min_qty": client.min_qty[pos],
                "price": client.price[pos],
                "currency": client.currency[pos],
                "valid_from": client.valid_from[pos],
                "valid_to": client.valid_to[pos],
                "matrix": np.zeros(len(line), bool),
            }
        )
        row = client.row
        lists: list[tuple[Source, int, int, bool]] = []
        if row.matrix_list_id is not None and row.matrix_list_id in self.lists:
            lists.append((Source.CONTRACT, row.matrix_list_id, row.matrix_bp, True))
        lists += [(source, list_id, 0, False) for source, list_id in self.lists_of(row)]
        for source, list_id, bp, is_matrix in lists:
            info = self.lists[list_id]
            line, pos = entries.lookup(list_id, sku_ids)
            if is_matrix and len(client.gaps):
                keep = ~np.isin(sku_ids[line], client.gaps)
                line, pos = line[keep], pos[keep]
            n = len(line)
            parts.append(
                {
                    "line": line,
                    "source": np.full(n, source, np.int64),
                    "priority": np.full(n, 0 if is_matrix else info.priority, np.int64),
                    "list_id": np.full(n, list_id, np.int64),
                    "rank": np.full(n, 0 if is_matrix else info.rank, np.int64),
                    "min_qty": entries.min_qty[pos],
                    "price": with_markup(entries.price[pos], bp) if bp else entries.price[pos],
                    "currency": np.full(n, info.currency, "U3"),
                    "valid_from": np.maximum(entries.valid_from[pos], info.valid_from),
                    "valid_to": np.minimum(entries.valid_to[pos], info.valid_to),
                    "matrix": np.full(n, is_matrix, bool),
                }
            )
        return Gathered(**{k: np.concatenate([p[k] for p in parts]) for k in parts[0]})

    def adjustments(
        self, client: store.ClientRow, sku_ids: I64, currency: str, day: int
    ) -> tuple[Adjustments, dict[str, Any]]:
        """Discounts in basis points per line, the floor, and the labels explain shows."""
        n = len(sku_ids)
        known = np.clip(sku_ids, 0, None)
        brand = self.brand_of[known]
        category = self.category_of[known]
        brand_bp = np.zeros(len(self.brands), np.int64)
        category_bp = np.zeros(len(self.categories), np.int64)
        for scope, value, bp in client.discounts:
            names, table = (
                (self.brands, brand_bp) if scope == "brand" else (self.categories, category_bp)
            )
            if value in names:  # a segment rule's and a manual one on the same: the better
                at = names.index(value)
                table[at] = max(table[at], bp)
        by_brand, by_category = brand_bp[brand], category_bp[category]
        client_bp = np.maximum(by_brand, by_category)
        client_label = np.where(
            by_brand >= by_category,
            np.char.add("brand:", np.array(self.brands, dtype=object)[brand].astype(str)),
            np.char.add("category:", np.array(self.categories, dtype=object)[category].astype(str)),
        )

        ladder_bp, ladder_label = 0, ""
        if client.ladder and client.ladder["currency"] == currency:
            levels = levels_of(client.ladder["levels"])
            reached = progress(client.turnover_minor, levels).current
            if reached is not None:
                ladder_bp = int(reached.discount_percent * 100)
                ladder_label = client.ladder["code"]

        promotion_bp = np.zeros(n, np.int64)
        promotion_label = np.full(n, "", dtype=object)
        for code, scope, value, bp, start, end in self.promotions.iter_rows():
            if not (start <= day < end):
                continue
            if scope == "sku":
                hit = sku_ids == self.sku_id.get(value, -2)
            elif scope == "brand":
                hit = brand == (self.brands.index(value) if value in self.brands else -1)
            else:
                hit = category == (self.categories.index(value) if value in self.categories else -1)
            better = hit & (bp > promotion_bp)
            promotion_bp[better] = bp
            promotion_label[better] = code

        floor = np.full(n, -1, np.int64)
        if currency in self.floors:
            floor_sku, floor_price = self.floors[currency]
            at = np.searchsorted(floor_sku, sku_ids)
            at_ok = np.minimum(at, max(len(floor_sku) - 1, 0))
            found = (
                (at < len(floor_sku)) & (floor_sku[at_ok] == sku_ids) if len(floor_sku) else at < 0
            )
            floor[found] = floor_price[at_ok[found]]
        return (
            Adjustments(client_bp, np.full(n, ladder_bp, np.int64), promotion_bp, floor),
            {"client": client_label, "ladder": ladder_label, "promotion": promotion_label},
        )
