"""Events the pricing service consumes, by consumer group: plain handlers a test can call.

Group "pricing" keeps pricing's projections: clients from accounts, SKUs from catalog, and
each client's monthly turnover and volumes from orders (what the ladder levels are measured
on, what simulations price), and each client's segments from analytics (what segment rules
assign on). A change of turnover that brings the client near its next ladder level, or onto
one, is told (`client.ladder_progress.v1`, services/pricing/usecases/alerts.py) in the same transaction.
"""

from datetime import UTC

from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.settings import Settings
from services.pricing.store import projections, segments
from services.pricing.store.policy import record_price_change
from services.pricing.usecases.alerts import tell_ladder_progress
from shared.contracts.accounts import CompanyUpsertedV1
from shared.contracts.analytics import ClientSegmentChangedV1
from shared.contracts.catalog import ProductUpsertedV1
from shared.contracts.orders import OrderCancelledV1, OrderPlacedV1
from shared.events.consumer import Handlers


async def handle_company_upserted(event: CompanyUpsertedV1, session: AsyncSession) -> None:
    """A company's master data: its group, currency and status decide its prices."""
    await projections.upsert_client(session, event)


async def handle_product_upserted(event: ProductUpsertedV1, session: AsyncSession) -> None:
    """A product's brand and category: what client discounts and promotions match on."""
    await projections.upsert_sku(session, event)


async def _count_turnover(
    session: AsyncSession,
    event: OrderPlacedV1 | OrderCancelledV1,
    amount_minor: int,
    settings: Settings | None,
) -> None:
    """Add the order's total (or, negative, take it back) in the month it was placed, and
    tell the client where that leaves it on its ladder."""
    company_id, placed_at, currency = event.company_id, event.placed_at, event.currency
    await projections.add_turnover(
        session, company_id, placed_at=placed_at, currency=currency, amount_minor=amount_minor
    )
    await tell_ladder_progress(
        session,
        company_id,
        placed_at=placed_at,
        currency=currency,
        amount_minor=amount_minor,
        nudge_percent=(settings or Settings()).ladder_nudge_percent,
    )


async def handle_order_placed(
    event: OrderPlacedV1, session: AsyncSession, settings: Settings | None = None
) -> None:
    """A placed order counts toward the client's turnover in the month it was placed, and
    its lines toward the client's volumes per SKU (what simulations price)."""
    await _count_turnover(session, event, event.total_minor, settings)
    await projections.add_volumes(session, event)


async def handle_segment_changed(event: ClientSegmentChangedV1, session: AsyncSession) -> None:
    """The client moved segment: segment rules give or take its lists and discounts, each
    assignment kept with the segments that caused it; caches hear a price.changed."""
    client_id = await projections.set_segments(session, event)
    if await segments.reassign(session, client_id, event.changed_at.astimezone(UTC).date()):
        record_price_change(session, "client.segment_changed", client_ids=[event.client_id], rows=1)


async def handle_order_cancelled(
    event: OrderCancelledV1, session: AsyncSession, settings: Settings | None = None
) -> None:
    """A cancelled order stops counting, in the month it was placed in: its turnover, and
    its volumes in simulations."""
    if not event.counted:
        return  # cancelled while waiting for approval: it never counted
    await _count_turnover(session, event, -event.total_minor, settings)
    await projections.take_back_volumes(session, event)


def consumers(settings: Settings) -> dict[str, Handlers]:
    """The consumer map, its handlers given the service's settings (passed in, not read from
    the session)."""

    async def order_placed(event: OrderPlacedV1, session: AsyncSession) -> None:
        await handle_order_placed(event, session, settings)

    async def order_cancelled(event: OrderCancelledV1, session: AsyncSession) -> None:
        await handle_order_cancelled(event, session, settings)

    return {
        "pricing": {
            CompanyUpsertedV1: handle_company_upserted,
            ProductUpsertedV1: handle_product_upserted,
            OrderPlacedV1: order_placed,
            OrderCancelledV1: order_cancelled,
            ClientSegmentChangedV1: handle_segment_changed,
        }
    }


# What the documents list (the application builds its own with its settings).
CONSUMERS = consumers(Settings())
