"""The price book: what resolution reads, held in NumPy arrays in each process.

The database is the truth. The shared part of the book (list entries, floors, promotions, SKU
facts) loads at start-up in the background; until it has, a cart reads just the entries it
needs from the database. Each client's own part (contract rows, matrix gaps, assignments,
discounts, ladder) loads on its first cart and stays in a bounded LRU. A `price.changed` event
(or the feed job in this process) drops exactly what changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
from services.pricing.store import prices as store
from shared.contracts.pricing import PRICE_TOPIC, PriceChangedV1
from shared.events.envelope import CloudEvent
from shared.events.kafka import create_topics

log = logging.getLogger(__name__)

CLIENT_TTL_SECONDS = 30.0  # turnover moves with orders; a ladder level may lag this much
MAX_CACHED_CONTRACT_ROWS = 8_000_000  # ~ 300 MB of arrays


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
        return cls(
            row=row,
            sku=rows["sku_id"].to_numpy(),
            min_qty=rows["min_qty"].to_numpy(),
            price=rows["price"].to_numpy(),
            currency=rows["currency"].to_numpy().astype("U3"),
            valid_from=rows["valid_from"].to_numpy(),
            valid_to=rows["valid_to"].to_numpy(),
            gaps=np.sort(gaps["sku_id"].to_numpy()),
        )

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
        return ClientPrices(
            row=self.row,
            sku=rows["sku_id"].to_numpy(),
            min_qty=rows["min_qty"].to_numpy(),
            price=rows["price"].to_numpy(),
            currency=rows["currency"].to_numpy().astype("U3"),
            valid_from=rows["valid_from"].to_numpy(),
            valid_to=rows["valid_to"].to_numpy(),
            gaps=self.gaps,
        )


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


_ENGINES: weakref.WeakSet[PriceEngine] = weakref.WeakSet()


def invalidate_in_process(*, lists: bool, clients: list[uuid.UUID] | None) -> None:
    """What a feed applied in this process drops here at once; other processes hear the event."""
    for engine in list(_ENGINES):
        engine.invalidate(lists=lists, clients=clients)


class PriceEngine:
    """One per process: the book, the client LRU, and the loading of both."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        _ENGINES.add(self)
        self.sessionmaker = sessionmaker
        self.book: PriceBook | None = None
        self.clients: OrderedDict[uuid.UUID, ClientPrices] = OrderedDict()
        self.cached_rows = 0
        self._entries_task: asyncio.Task[None] | None = None
        self.generation = 0  # bumped on every invalidation; a load started before is dropped

    async def start(self) -> None:
        await self.reload_book(entries_now=False)

    async def reload_book(self, *, entries_now: bool = True) -> None:
        generation = self.generation
        async with self.sessionmaker() as session:
            book = PriceBook(
                await store.price_lists(session),
                await store.group_lists(session),
                await store.skus(session),
                await store.floors(session),
                await store.promotions(session),
            )
            book.version = await store.latest_version(session)
        if generation != self.generation:
            return
        self.book = book
        if entries_now:
            await self._load_entries(book, generation)
        else:
            self._entries_task = asyncio.create_task(self._load_entries(book, generation))

    async def _load_entries(self, book: PriceBook, generation: int) -> None:
        started = time.perf_counter()
        async with self.sessionmaker() as session:
            frame = await store.all_entries(session)
        table = await asyncio.to_thread(EntryTable, frame, book.list_frame)
        if generation == self.generation and self.book is book:
            book.entries = table
            log.info("price book: %d entries in %.2fs", len(table), time.perf_counter() - started)

    async def learned_new_skus(self, book: PriceBook, skus: list[str]) -> bool:
        """Catalog added SKUs the book has not seen (product.upserted changes no price, so no
        price.changed tells this process): drop the book when the database knows them now."""
        unknown = [sku for sku in skus if sku not in book.sku_id]
        async with self.sessionmaker() as session:
            known = await session.scalar(
                text("SELECT count(*) FROM skus WHERE sku = ANY(:unknown)"), {"unknown": unknown}
            )
        if not known:
            return False
        self.invalidate(lists=True, clients=None)
        return True

    def invalidate(self, *, lists: bool = False, clients: list[uuid.UUID] | None = None) -> None:
        """Drop what changed: the shared book, some clients, or (clients=None) every client."""
        self.generation += 1
        if lists:
            self.book = None
            if self._entries_task is not None:
                self._entries_task.cancel()
        if clients is None:
            self.clients.clear()
            self.cached_rows = 0
        else:
            for company_id in clients:
                dropped = self.clients.pop(company_id, None)
                if dropped is not None:
                    self.cached_rows -= dropped.size

    async def ensure_book(self) -> PriceBook:
        # A price.changed arriving while the book loads drops that load: load again.
        while self.book is None:
            await self.reload_book(entries_now=False)
        return self.book

    async def client(self, company_id: uuid.UUID, today: date) -> ClientPrices | None:
        cached = self.clients.get(company_id)
        if cached is not None and time.monotonic() - cached.loaded_at < CLIENT_TTL_SECONDS:
            self.clients.move_to_end(company_id)
            return cached
        generation = self.generation
        async with self.sessionmaker() as session:
            row = await store.client(session, company_id, today)
            if row is None:
                return None
            frame = await store.contract_prices(session, row.id)
        loaded = ClientPrices.build(row, frame)
        if generation == self.generation:
            self._remember(company_id, loaded)
        return loaded

    def _remember(self, company_id: uuid.UUID, loaded: ClientPrices) -> None:
        previous = self.clients.pop(company_id, None)
        if previous is not None:
            self.cached_rows -= previous.size
        self.clients[company_id] = loaded
        self.cached_rows += loaded.size
        while self.cached_rows > MAX_CACHED_CONTRACT_ROWS and len(self.clients) > 1:
            _, evicted = self.clients.popitem(last=False)
            self.cached_rows -= evicted.size

    async def entries_for(self, book: PriceBook, client: ClientPrices, sku_ids: I64) -> EntryTable:
        """The full table when loaded; else only this cart's entries, read from the database."""
        if book.entries is not None:
            return book.entries
        wanted = [i for _, i in book.lists_of(client.row)]
        if client.row.matrix_list_id is not None:
            wanted.append(client.row.matrix_list_id)
        roots = book.root_lists(wanted)
        async with self.sessionmaker() as session:
            frame = await store.entries_for(session, roots, sku_ids[sku_ids >= 0].tolist())
        return EntryTable(frame, book.list_frame)

    async def entries_of_list(self, book: PriceBook, list_id: int) -> EntryTable:
        """The full table when loaded; else the entries of this list and its ancestors."""
        if book.entries is not None:
            return book.entries
        async with self.sessionmaker() as session:
            frame = await store.entries_of_lists(session, book.root_lists([list_id]))
        return EntryTable(frame, book.list_frame)


async def start_price_book(app: FastAPI) -> None:
    """Start-up hook: the small part of the book now, the entries in the background."""
    engine = PriceEngine(app.state.sessionmaker)
    app.state.price_engine = engine
    try:
        await engine.start()
    except Exception:  # the first cart loads it; a service must start without its cache
        log.exception("price book: not loaded at start-up")


def apply_price_change(engine: PriceEngine, event: PriceChangedV1) -> None:
    """Drop what a price.changed event says changed."""
    lists = bool(event.list_codes) or event.policy or event.matrix
    engine.invalidate(lists=lists, clients=None if event.matrix or lists else event.client_ids)


async def listen_for_price_changes(app: FastAPI) -> None:
    """Every process hears every price.changed, from the latest offset. No consumer group:
    each process reads all partitions itself, and starting or stopping costs no rebalance."""
    settings = app.state.settings
    while True:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False
        )
        try:
            await create_topics(settings.kafka_bootstrap_servers, {PRICE_TOPIC})
            await consumer.start()
            partitions = consumer.partitions_for_topic(PRICE_TOPIC) or set()
            consumer.assign([TopicPartition(PRICE_TOPIC, p) for p in sorted(partitions)])
            await consumer.seek_to_end()
            async for message in consumer:
                envelope = CloudEvent.model_validate_json(message.value or b"{}")
                if envelope.type == PriceChangedV1.full_type():
                    apply_price_change(
                        app.state.price_engine, PriceChangedV1.model_validate(envelope.data)
                    )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("price cache listener: reconnecting")
            # Whatever was missed while away: start again from a clean cache.
            app.state.price_engine.invalidate(lists=True, clients=None)
            await asyncio.sleep(2)
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()
