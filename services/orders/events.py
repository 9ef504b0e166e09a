"""Events the orders service consumes, by consumer group: plain handlers a test can call.

Stock levels from catalog tell when a SKU on a company's requisition lists is back in stock;
orders then publishes `requisition.stock_back.v1` for that company, in the same transaction.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.domain.stock import back_in_stock
from services.orders.store import catalog as projections
from services.orders.store import stock
from shared.contracts.accounts import CompanyUpsertedV1
from shared.contracts.catalog import ProductUpsertedV1, StockChangedV1
from shared.contracts.orders import BackInStock, ListRef, RequisitionStockBackV1
from shared.db import utcnow
from shared.events.consumer import Handler
from shared.events.envelope import EventContract
from shared.events.outbox import record_event


async def handle_product_upserted(event: ProductUpsertedV1, session: AsyncSession) -> None:
    """What a SKU may be ordered in: minimum, multiple, and whether it is still sold."""
    await projections.upsert_product(session, event)


async def handle_company_upserted(event: CompanyUpsertedV1, session: AsyncSession) -> None:
    """The client's currency, and its ERP id for offline orders ERP sends back."""
    await projections.upsert_company(session, event)


async def handle_stock_changed(event: StockChangedV1, session: AsyncSession) -> None:
    """A SKU available nowhere and now somewhere: each company keeping it on a requisition list
    hears it once (one event per company)."""
    before = await stock.total_available(session, event.sku)
    await stock.set_level(session, event)
    after = await stock.total_available(session, event.sku) or 0
    if not back_in_stock(before, after):
        return
    holders = await stock.lists_holding(session, event.sku)
    if not holders:
        return
    item = BackInStock(
        sku=event.sku, name=await stock.product_name(session, event.sku), available=after
    )
    now = utcnow()
    for company_id, lists in holders.items():
        record_event(
            session,
            RequisitionStockBackV1(
                company_id=company_id,
                skus=[item],
                lists=[ListRef(list_id=i, name=n) for i, n in lists],
                back_at=now,
            ),
        )


CONSUMERS: dict[str, dict[type[EventContract], Handler]] = {
    "orders": {
        ProductUpsertedV1: handle_product_upserted,
        CompanyUpsertedV1: handle_company_upserted,
        StockChangedV1: handle_stock_changed,
    }
}
