"""Events the analytics service consumes, by consumer group: plain handlers a test can call.

Group "analytics" keeps the facts: clients and their receivables from accounts, products from
catalog, orders (placed, delivered, cancelled) from orders. An event that changes a client's
facts marks the client dirty in the same transaction; the recompute worker then recomputes the
dirty clients in batches (one polars pass each) and emits the segment changes. A redelivered
event is a no-op (the inbox), so it never causes a second change.

Stock levels (catalog) and price changes (pricing) feed the alerts to clients
(services/analytics/alerts.py): a SKU of a client's A class out of stock, price moves on the
SKUs it buys regularly.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.alerts import handle_price_changed, handle_stock_changed
from services.analytics.recompute import definitions
from services.analytics.store import facts
from services.analytics.store.segments import mark_dirty
from shared.contracts.accounts import CompanyCreditChangedV1, CompanyUpsertedV1
from shared.contracts.catalog import ProductUpsertedV1, StockChangedV1
from shared.contracts.orders import OrderCancelledV1, OrderDeliveredV1, OrderPlacedV1
from shared.contracts.pricing import PriceChangedV1
from shared.events.consumer import Handler
from shared.events.envelope import EventContract


async def handle_company_upserted(event: CompanyUpsertedV1, session: AsyncSession) -> None:
    """Industry, type, size (peers for cross-sell), purchase potential (share of wallet)."""
    d = definitions(session)
    await facts.upsert_client(
        session, event, size_key=d.size_card_key, potential_key=d.potential_card_key
    )


async def handle_credit_changed(event: CompanyCreditChangedV1, session: AsyncSession) -> None:
    """Overdue receivables: the receivables-behaviour segment."""
    await facts.set_credit(session, event)
    await mark_dirty(session, event.company_id)


async def handle_product_upserted(event: ProductUpsertedV1, session: AsyncSession) -> None:
    """A SKU's category and brand: what assortment gaps are measured in."""
    await facts.upsert_product(session, event)


async def handle_order_placed(event: OrderPlacedV1, session: AsyncSession) -> None:
    """A placed order is a purchase: it counts in every metric from now on."""
    if await facts.add_order(session, event):
        await mark_dirty(session, event.company_id)


async def handle_order_cancelled(event: OrderCancelledV1, session: AsyncSession) -> None:
    """A cancelled order stops counting."""
    if event.counted and await facts.cancel_order(session, event):
        await mark_dirty(session, event.company_id)


async def handle_order_delivered(event: OrderDeliveredV1, session: AsyncSession) -> None:
    """On time and in full: the client's OTIF rate."""
    if await facts.deliver_order(session, event):
        await mark_dirty(session, event.company_id)


CONSUMERS: dict[str, dict[type[EventContract], Handler]] = {
    "analytics": {
        CompanyUpsertedV1: handle_company_upserted,
        CompanyCreditChangedV1: handle_credit_changed,
        ProductUpsertedV1: handle_product_upserted,
        OrderPlacedV1: handle_order_placed,
        OrderCancelledV1: handle_order_cancelled,
        OrderDeliveredV1: handle_order_delivered,
        StockChangedV1: handle_stock_changed,
        PriceChangedV1: handle_price_changed,
    }
}
