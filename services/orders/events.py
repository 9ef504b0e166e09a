"""Events the orders service consumes, by consumer group: plain handlers a test can call.

Stock levels from catalog tell when a SKU on a company's requisition lists is back in stock;
orders then publishes `requisition.stock_back.v1` for that company, in the same transaction.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.domain.stock import back_in_stock
from services.orders.store import catalog as projections
from services.orders.store import stock
from services.orders.store.models import StockLevel
from shared.clock import utcnow
from shared.contracts import stock_levels
from shared.contracts.accounts import CompanyUpsertedV1
from shared.contracts.catalog import ProductUpsertedV1, StockChangedV1
from shared.contracts.orders import BackInStock, ListRef, RequisitionStockBackV1
from shared.events.consumer import Handlers, Many
from shared.events.outbox import record_event


async def handle_product_upserted(event: ProductUpsertedV1, session: AsyncSession) -> None:
    """What a SKU may be ordered in: minimum, multiple, and whether it is still sold."""
    await projections.upsert_product(session, event)


async def handle_company_upserted(event: CompanyUpsertedV1, session: AsyncSession) -> None:
    """The client's currency, and its ERP id for offline orders ERP sends back."""
    await projections.upsert_company(session, event)


async def handle_stock_changed(events: list[StockChangedV1], session: AsyncSession) -> None:
    """Stock levels, a batch at a time. A SKU available nowhere and now somewhere: each company
    keeping it on a requisition list hears it once, in one event for all its SKUs back."""
    # the SKUs back, with what was available when they came back
    returned = {
        m.sku: m.after
        for m in await stock_levels.apply_to(session, StockLevel, events)
        if back_in_stock(m.before, m.after)
    }
    if not returned:
        return
    holders = await stock.lists_holding(session, returned)
    if not holders:
        return
    names = await stock.product_names(session, returned)
    now = utcnow()
    for company_id, holdings in holders.items():
        skus = sorted({sku for _, _, sku in holdings})
        lists = dict.fromkeys((list_id, name) for list_id, name, _ in holdings)
        record_event(
            session,
            RequisitionStockBackV1(
                company_id=company_id,
                skus=[
                    BackInStock(sku=s, name=names.get(s, s), available=returned[s]) for s in skus
                ],
                lists=[ListRef(list_id=i, name=n) for i, n in lists],
                back_at=now,
            ),
        )


CONSUMERS: dict[str, Handlers] = {
    "orders": {
        ProductUpsertedV1: handle_product_upserted,
        CompanyUpsertedV1: handle_company_upserted,
        StockChangedV1: Many(handle_stock_changed),
    }
}
