"""Quotes: their lines, their conversation (steps) and their events, written together."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.store.models import Order
from services.orders.store.orders import insert_lines, lines_in_order
from services.orders.store.quote_models import Quote, QuoteLine, QuoteStep
from shared.clock import utcnow
from shared.contracts.orders import QuoteAcceptedV1, QuotedLine
from shared.events.envelope import EventContract
from shared.events.outbox import record_event
from shared.problems import Conflict


async def next_number(session: AsyncSession) -> str:
    number = await session.scalar(text("SELECT nextval('quote_numbers')"))
    return f"Q-{number:08d}"


async def add_lines(
    session: AsyncSession, quote_id: uuid.UUID, lines: list[dict[str, Any]]
) -> None:
    await insert_lines(session, QuoteLine, {"quote_id": quote_id}, lines)


async def lines_of(session: AsyncSession, quote_id: uuid.UUID) -> list[QuoteLine]:
    return await lines_in_order(session, QuoteLine.quote_id, quote_id)


def step(session: AsyncSession, quote: Quote, action: str, actor: str, message: str | None) -> None:
    session.add(
        QuoteStep(
            quote_id=quote.id,
            action=action,
            revision=quote.revision,
            actor=actor,
            at=utcnow(),
            message=message,
        )
    )


def record_quote_event(
    session: AsyncSession,
    contract: Callable[..., EventContract],
    quote: Quote,
    actor: str,
    **fields: Any,
) -> None:
    """One of a quote's events: which quote, whose, who acted, and what its kind adds."""
    record_event(
        session,
        contract(
            quote_id=quote.id,
            company_id=quote.company_id,
            number=quote.number,
            actor=actor,
            **fields,
        ),
    )


def event_lines(lines: list[QuoteLine]) -> list[QuotedLine]:
    return [
        QuotedLine(
            sku=x.sku,
            quantity=x.quantity,
            client_price_minor=x.client_price_minor,
            quoted_price_minor=x.quoted_price_minor,
        )
        for x in lines
    ]


async def mark_accepted(session: AsyncSession, quote_id: uuid.UUID, order: Order) -> None:
    """In the order's own transaction: the quote becomes that order, once. A second accept
    running at the same time finds it accepted and fails, so its stock is given back."""
    quote = await session.scalar(
        update(Quote)
        .where(Quote.id == quote_id, Quote.status == "offered")
        .values(status="accepted", order_id=order.id, updated_at=utcnow())
        .returning(Quote)
    )
    if quote is None:
        raise Conflict("This quote was accepted or changed meanwhile.", slug="quote-not-offered")
    step(session, quote, "accepted", order.placed_by, f"order {order.number}")
    record_quote_event(
        session,
        QuoteAcceptedV1,
        quote,
        order.placed_by,
        revision=quote.revision,
        order_id=order.id,
        total_minor=order.total_minor,
    )


async def steps_of(session: AsyncSession, quote_id: uuid.UUID) -> list[QuoteStep]:
    return list(
        await session.scalars(
            select(QuoteStep).where(QuoteStep.quote_id == quote_id).order_by(QuoteStep.id)
        )
    )


async def mark_opened(session: AsyncSession, quote_id: uuid.UUID) -> Any:
    """When the client first opened the offer; None when a look at the same moment did."""
    return await session.scalar(
        update(Quote)
        .where(Quote.id == quote_id, Quote.opened_at.is_(None))
        .values(opened_at=utcnow())
        .returning(Quote.opened_at)
    )


def listing(narrow: Any, company_id: uuid.UUID | None, status: str | None) -> Any:
    """The quotes query: `narrow` limits it to the caller's clients, `company_id` to one."""
    stmt = narrow(select(Quote), Quote.company_id)
    if company_id is not None:
        stmt = stmt.where(Quote.company_id == company_id)
    if status:
        stmt = stmt.where(Quote.status == status)
    return stmt
