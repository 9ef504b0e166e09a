"""Events the orders service consumes, by consumer group: plain handlers a test can call."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.store import catalog as projections
from shared.contracts.accounts import CompanyUpsertedV1
from shared.contracts.catalog import ProductUpsertedV1
from shared.events.consumer import Handler
from shared.events.envelope import EventContract


async def handle_product_upserted(event: ProductUpsertedV1, session: AsyncSession) -> None:
    """What a SKU may be ordered in: minimum, multiple, and whether it is still sold."""
    await projections.upsert_product(session, event)


async def handle_company_upserted(event: CompanyUpsertedV1, session: AsyncSession) -> None:
    """The client's currency, and its ERP id for offline orders ERP sends back."""
    await projections.upsert_company(session, event)


CONSUMERS: dict[str, dict[type[EventContract], Handler]] = {
    "orders": {
        ProductUpsertedV1: handle_product_upserted,
        CompanyUpsertedV1: handle_company_upserted,
    }
}
