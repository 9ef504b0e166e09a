"""A SKU of a client's own A class ran out of stock: catalog's stock.changed, in the
consumer's transaction, tells each such client (`client.key_sku_out_of_stock.v1`)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.domain.alerts import key_sku_clients, out_of_stock
from services.analytics.settings import Settings
from services.analytics.store import alerts as store
from services.analytics.store.models import StockLevel
from shared.clock import utcnow
from shared.contracts import stock_levels
from shared.contracts.analytics import ClientKeySkuOutOfStockV1
from shared.contracts.catalog import StockChangedV1
from shared.events.outbox import record_event


async def apply_stock_changes(
    session: AsyncSession, settings: Settings, events: list[StockChangedV1]
) -> int:
    """Stock levels, a batch at a time. A SKU available somewhere and now nowhere: each client
    whose A class it is hears it. Returns how many clients were told."""
    told = 0
    for move in await stock_levels.apply_to(session, StockLevel, events):
        if out_of_stock(move.before, move.after):  # rare: the queries for it are per SKU
            told += await tell_key_sku_out(session, settings, move.sku)
    return told


async def tell_key_sku_out(session: AsyncSession, settings: Settings, sku: str) -> int:
    """One event per client whose A class (of its own purchases in the ABC window) holds the
    SKU; returns how many."""
    now = utcnow()
    purchases = await store.buyers_purchases(session, sku, settings.abc_months, now)
    if purchases.is_empty():
        return 0
    found = key_sku_clients(purchases, sku, settings)
    if found.is_empty():
        return 0
    managers, name = await store.managers_and_name(session, found["client_id"].to_list(), sku)
    for row in found.iter_rows(named=True):
        record_event(
            session,
            ClientKeySkuOutOfStockV1(
                client_id=row["client_id"],
                sku=sku,
                name=name,
                currency=row["currency"],
                revenue_minor=row["revenue_minor"],
                revenue_share=Decimal(str(row["revenue_share"])),
                last_bought_at=row["last_at"],
                sales_manager_id=managers.get(row["client_id"]),
                out_at=now,
            ),
        )
    return found.height
