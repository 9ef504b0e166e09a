"""The price book: what resolution reads, held in NumPy arrays in each process.

The database is the truth. The shared part of the book (list entries, floors, promotions, SKU
facts) loads at start-up in the background; until it has, a cart reads just the entries it
needs from the database. Each client's own part (contract rows, matrix gaps, assignments,
discounts, ladder) loads on its first cart and stays in a bounded LRU. A `price.changed` event
(or the feed job in this process) drops exactly what changed.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import weakref
from collections import OrderedDict
from datetime import date
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event as orm_event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.pricing.domain.batch import I64
from services.pricing.price_book.book import PriceBook
from services.pricing.price_book.tables import ClientPrices, EntryTable
from services.pricing.store import prices as store
from shared.contracts.pricing import PriceChangedV1

log = logging.getLogger(__name__)

CLIENT_TTL_SECONDS = 30.0  # turnover moves with orders; a ladder level may lag this much
MAX_CACHED_CONTRACT_ROWS = 8_000_000  # ~ 300 MB of arrays


# Every engine of this process (one per application; tests run several): a change committed
# here drops what it changed in each of them at once. Other processes hear the price.changed
# event (workers.listen_for_price_changes) and drop the same through `apply_price_change`.
_ENGINES: weakref.WeakSet[PriceEngine] = weakref.WeakSet()


def invalidate_in_process(*, lists: bool, clients: list[uuid.UUID] | None) -> None:
    """The one way a change drops cached prices in this process: in every engine."""
    for engine in list(_ENGINES):
        engine.invalidate(lists=lists, clients=clients)


def drop_once_committed(session: AsyncSession, event: PriceChangedV1) -> None:
    """Drop what `event` says changed from every engine of this process once `session`
    commits (not before: a rolled-back edit changed nothing, and a reload started before the
    commit would read the old prices back)."""

    def drop(_session: object) -> None:
        invalidate_in_process(**changed_by(event))

    orm_event.listen(session.sync_session, "after_commit", drop, once=True)


def changed_by(event: PriceChangedV1) -> dict[str, Any]:
    """What of a cache a price.changed drops: the book when lists or policy moved, else only
    the clients it names."""
    lists = bool(event.list_codes) or event.policy or event.matrix
    return {"lists": lists, "clients": None if lists else list(event.client_ids)}


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
            known = await store.count_known_skus(session, unknown)
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
    """Drop what a price.changed event heard from another process says changed."""
    engine.invalidate(**changed_by(event))
