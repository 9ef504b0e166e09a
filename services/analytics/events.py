"""Events the analytics service consumes, by consumer group: plain handlers a test can call.

Group "analytics" keeps the facts: clients and their receivables from accounts, products from
catalog, orders (placed, delivered, cancelled) from orders. An event that changes a client's
facts marks the client dirty in the same transaction; the recompute worker then recomputes the
dirty clients in batches (one polars pass each) and emits the segment changes. A redelivered
event is a no-op (the inbox), so it never causes a second change.

Stock levels (catalog) and price changes (pricing) feed the alerts to clients
(`usecases/key_sku_alerts.py`, `usecases/price_checks.py`): a SKU of a client's A class out of
stock, price moves on the SKUs it buys regularly.

The handlers that need the service's settings are given them (`consumers(settings)`), never
read from the session.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.settings import Settings
from services.analytics.store import facts, sales_facts
from services.analytics.store.segments import mark_dirty
from services.analytics.usecases.key_sku_alerts import apply_stock_changes
from services.analytics.usecases.price_checks import queue_price_change
from shared.clock import utcnow
from shared.contracts.accounts import (
    CompanyCreditChangedV1,
    CompanyStageChangedV1,
    CompanyUpsertedV1,
)
from shared.contracts.catalog import ProductUpsertedV1, StockChangedV1
from shared.contracts.notifications import ChurnSurveyAnsweredV1
from shared.contracts.orders import (
    OrderCancelledV1,
    OrderClaimRecordedV1,
    OrderDeliveredV1,
    OrderPlacedV1,
    QuoteAcceptedV1,
    QuoteDeclinedV1,
    QuoteOfferedV1,
    QuoteRequestedV1,
)
from shared.contracts.pricing import PriceChangedV1
from shared.events.consumer import Handlers, Many


async def handle_company_upserted(
    event: CompanyUpsertedV1, session: AsyncSession, settings: Settings
) -> None:
    """Industry, type, size (peers for cross-sell), purchase potential (share of wallet).

    The client is recomputed too: its segments use these, and its orders may have come first
    (topics are not ordered among themselves), recomputed while the client was unknown."""
    await facts.upsert_client(
        session, event, size_key=settings.size_card_key, potential_key=settings.potential_card_key
    )
    await mark_dirty(session, event.company_id)


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
    """A cancelled order stops counting; its reason counts among the loss reasons."""
    if event.reason_code is not None:
        await sales_facts.add_loss_reason(
            session,
            kind="cancellation",
            source_id=str(event.order_id),
            client_id=event.company_id,
            reason_code=event.reason_code,
            detail=event.reason or None,
            at=event.cancelled_at,
        )
    if event.counted and await facts.cancel_order(session, event):
        await mark_dirty(session, event.company_id)


async def handle_claim_recorded(event: OrderClaimRecordedV1, session: AsyncSession) -> None:
    """A return or a complaint, with its reason."""
    await sales_facts.add_loss_reason(
        session,
        kind=event.kind,
        source_id=str(event.claim_id),
        client_id=event.company_id,
        reason_code=event.reason_code,
        detail=event.comment,
        at=event.recorded_at,
    )


async def handle_churn_survey(event: ChurnSurveyAnsweredV1, session: AsyncSession) -> None:
    """A departing client's answer: what did not suit in the product, service, the sale."""
    parts = [
        f"{k}: {v}"
        for k, v in (("product", event.product), ("service", event.service), ("sale", event.sale))
        if v
    ]
    await sales_facts.add_loss_reason(
        session,
        kind="survey",
        source_id=f"{event.company_id}:{event.user_id}",
        client_id=event.company_id,
        reason_code=event.main_reason,
        detail="; ".join(parts) or None,
        at=event.answered_at,
    )


async def handle_stage_changed(event: CompanyStageChangedV1, session: AsyncSession) -> None:
    """A move along the pipeline: conversion and time between stages."""
    await sales_facts.add_stage_change(session, event)


async def handle_quote_requested(event: QuoteRequestedV1, session: AsyncSession) -> None:
    await sales_facts.quote_requested(
        session, event.quote_id, event.company_id, event.currency, utcnow(), event.lines
    )


async def handle_quote_offered(event: QuoteOfferedV1, session: AsyncSession) -> None:
    values = {"offered_at": utcnow(), "offered_minor": event.total_minor, "offered_by": event.actor}
    await sales_facts.quote_offered(session, event.quote_id, values, event.lines)


async def handle_quote_accepted(event: QuoteAcceptedV1, session: AsyncSession) -> None:
    values = {
        "accepted_at": utcnow(),
        "accepted_minor": event.total_minor,
        "order_id": event.order_id,
    }
    await sales_facts.quote_closed(session, event.quote_id, values)


async def handle_quote_declined(event: QuoteDeclinedV1, session: AsyncSession) -> None:
    await sales_facts.quote_closed(session, event.quote_id, {"declined_at": utcnow()})


async def handle_order_delivered(event: OrderDeliveredV1, session: AsyncSession) -> None:
    """On time and in full: the client's OTIF rate."""
    if await facts.deliver_order(session, event):
        await mark_dirty(session, event.company_id)


async def handle_stock_changed(
    events: list[StockChangedV1], session: AsyncSession, settings: Settings
) -> None:
    """Stock levels; a SKU of clients' A class that ran out is told to them."""
    await apply_stock_changes(session, settings, events)


async def handle_price_changed(event: PriceChangedV1, session: AsyncSession) -> None:
    """Queued for the price-check worker: comparing takes calls to pricing."""
    await queue_price_change(session, event)


def consumers(settings: Settings) -> dict[str, Handlers]:
    """The consumer map, its handlers given the service's settings (passed in, not read from
    the session)."""

    async def company_upserted(event: CompanyUpsertedV1, session: AsyncSession) -> None:
        await handle_company_upserted(event, session, settings)

    async def stock_changed(events: list[StockChangedV1], session: AsyncSession) -> None:
        await handle_stock_changed(events, session, settings)

    return {
        "analytics": {
            CompanyUpsertedV1: company_upserted,
            CompanyCreditChangedV1: handle_credit_changed,
            ProductUpsertedV1: handle_product_upserted,
            OrderPlacedV1: handle_order_placed,
            OrderCancelledV1: handle_order_cancelled,
            OrderDeliveredV1: handle_order_delivered,
            StockChangedV1: Many(stock_changed),
            PriceChangedV1: handle_price_changed,
            OrderClaimRecordedV1: handle_claim_recorded,
            ChurnSurveyAnsweredV1: handle_churn_survey,
            CompanyStageChangedV1: handle_stage_changed,
            QuoteRequestedV1: handle_quote_requested,
            QuoteOfferedV1: handle_quote_offered,
            QuoteAcceptedV1: handle_quote_accepted,
            QuoteDeclinedV1: handle_quote_declined,
        }
    }


# What the documents list (the application builds its own with its settings).
CONSUMERS = consumers(Settings())
