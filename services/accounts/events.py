"""Events the accounts service consumes, by consumer group: plain handlers a test can call,
each calling a use case.

Group "accounts" moves companies along the sales pipeline: a quote requested reaches the stage
marked `quote_requested`, the first order `first_order`, a later order that adds to no earlier
one `repeat_order`. The pipeline only moves forward by itself; a redelivered event is a no-op
(the inbox).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.usecases import pipeline
from shared.contracts.orders import OrderPlacedV1, QuoteRequestedV1
from shared.events.consumer import Handlers


async def handle_order_placed(event: OrderPlacedV1, session: AsyncSession) -> None:
    adds_to_earlier = event.adds_to_order_id is not None
    await pipeline.order_placed(session, event.company_id, adds_to_earlier, event.placed_at)


async def handle_quote_requested(event: QuoteRequestedV1, session: AsyncSession) -> None:
    await pipeline.quote_requested(session, event.company_id)


CONSUMERS: dict[str, Handlers] = {
    "accounts": {
        OrderPlacedV1: handle_order_placed,
        QuoteRequestedV1: handle_quote_requested,
    }
}
