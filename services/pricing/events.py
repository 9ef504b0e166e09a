"""Events the pricing service consumes, by consumer group: plain handlers a test can call.

Group "pricing" keeps pricing's projections: clients from accounts, SKUs from catalog, and
each client's monthly turnover from orders (what the ladder levels are measured on). A change
of turnover that brings the client near its next ladder level, or onto one, is told
(`client.ladder_progress.v1`, services/pricing/alerts.py) in the same transaction.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.alerts import tell_ladder_progress
from services.pricing.store import projections
from shared.contracts.accounts import CompanyUpsertedV1
from shared.contracts.catalog import ProductUpsertedV1
from shared.contracts.orders import OrderCancelledV1, OrderPlacedV1
from shared.events.consumer import Handler
from shared.events.envelope import EventContract


async def handle_company_upserted(event: CompanyUpsertedV1, session: AsyncSession) -> None:
    """A company's master data: its group, currency and status decide its prices."""
    await projections.upsert_client(session, event)


async def handle_product_upserted(event: ProductUpsertedV1, session: AsyncSession) -> None:
    """A product's brand and category: what client discounts and promotions match on."""
    await projections.upsert_sku(session, event)


async def handle_order_placed(event: OrderPlacedV1, session: AsyncSession) -> None:
    """A placed order counts toward the client's turnover in the month it was placed."""
    await projections.add_turnover(
        session,
        event.company_id,
        placed_at=event.placed_at,
        currency=event.currency,
        amount_minor=event.total_minor,
    )
    await tell_ladder_progress(
        session,
        event.company_id,
        placed_at=event.placed_at,
        currency=event.currency,
        amount_minor=event.total_minor,
    )


async def handle_order_cancelled(event: OrderCancelledV1, session: AsyncSession) -> None:
    """A cancelled order stops counting, in the month it was placed in."""
    if not event.counted:
        return  # cancelled while waiting for approval: it never counted
    await projections.add_turnover(
        session,
        event.company_id,
        placed_at=event.placed_at,
        currency=event.currency,
        amount_minor=-event.total_minor,
    )
    await tell_ladder_progress(
        session,
        event.company_id,
        placed_at=event.placed_at,
        currency=event.currency,
        amount_minor=-event.total_minor,
    )


CONSUMERS: dict[str, dict[type[EventContract], Handler]] = {
    "pricing": {
        CompanyUpsertedV1: handle_company_upserted,
        ProductUpsertedV1: handle_product_upserted,
        OrderPlacedV1: handle_order_placed,
        OrderCancelledV1: handle_order_cancelled,
    }
}
