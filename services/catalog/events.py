"""Events the catalog service consumes, by consumer group: plain handlers a test can call,
each calling a use case."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.usecases import marketplace, reservations
from shared.contracts.orders import OrderCancelledV1, OrderDeliveredV1, OrderShippedV1
from shared.contracts.pricing import PriceChangedV1
from shared.events.consumer import Handlers


async def handle_order_left(
    event: OrderShippedV1 | OrderDeliveredV1 | OrderCancelledV1, session: AsyncSession
) -> None:
    """Shipped or delivered, the goods are gone (ERP's next stock feed confirms it); cancelled,
    they are free again. Either way the order's reservation no longer holds them."""
    cancelled = isinstance(event, OrderCancelledV1)
    await reservations.order_left(
        session, event.reservation_id, "released" if cancelled else "shipped"
    )


async def handle_price_changed(event: PriceChangedV1, session: AsyncSession) -> None:
    """A change naming price lists (or the matrix lists) moves the version marketplace feed
    ETags are built from: a partner's next pull gets the new prices. Which list derives from
    which is pricing's business, so any list's change counts for every feed."""
    if event.list_codes or event.matrix:
        await marketplace.count_price_change(session, event.change_id)


CONSUMERS: dict[str, Handlers] = {
    "catalog": {
        OrderShippedV1: handle_order_left,
        OrderDeliveredV1: handle_order_left,
        OrderCancelledV1: handle_order_left,
        PriceChangedV1: handle_price_changed,
    }
}
