"""Events the accounts service consumes, by consumer group: plain handlers a test can call.

Group "accounts" moves companies along the sales pipeline: a quote requested reaches the stage
marked `quote_requested`, the first order `first_order`, a later order that adds to no earlier
one `repeat_order`. The pipeline only moves forward by itself; a redelivered event is a no-op
(the inbox).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.domain.pipeline import milestone_of_order, stage_reached
from services.accounts.store import pipeline
from shared.clock import utcnow
from shared.contracts.orders import OrderPlacedV1, QuoteRequestedV1
from shared.events.consumer import Handlers


async def _reach(session: AsyncSession, company, row, milestone: str | None, at, actor) -> None:
    if milestone is None:
        return
    target = stage_reached(await pipeline.stages(session), row.stage, milestone)
    if target is not None:
        await pipeline.move(session, company, row, target, actor, at)


async def handle_order_placed(event: OrderPlacedV1, session: AsyncSession) -> None:
    """The first order, or a repeat (not an add-on to an earlier order)."""
    company = await pipeline.company_exists(session, event.company_id)
    if company is None:
        return
    row = await pipeline.standing(session, company.id, lock=True)
    before = await pipeline.count_order(session, row)
    milestone = milestone_of_order(before, event.adds_to_order_id is not None)
    await _reach(session, company, row, milestone, event.placed_at, "system")


async def handle_quote_requested(event: QuoteRequestedV1, session: AsyncSession) -> None:
    company = await pipeline.company_exists(session, event.company_id)
    if company is None:
        return
    row = await pipeline.standing(session, company.id, lock=True)
    await _reach(session, company, row, "quote_requested", utcnow(), "system")


CONSUMERS: dict[str, Handlers] = {
    "accounts": {
        OrderPlacedV1: handle_order_placed,
        QuoteRequestedV1: handle_quote_requested,
    }
}
