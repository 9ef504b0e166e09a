"""Writes of the sales facts from events: pipeline moves, quotes, loss reasons. One statement
per table, idempotent by the event's own keys (a redelivery changes nothing)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.store.sales_models import (
    LossReasonFact,
    PipelineChange,
    QuoteFact,
    QuoteLineFact,
)
from shared.contracts.accounts import CompanyStageChangedV1
from shared.contracts.orders import QuotedLine


async def add_stage_change(session: AsyncSession, event: CompanyStageChangedV1) -> None:
    await session.execute(
        insert(PipelineChange)
        .values(
            client_id=event.company_id,
            **event.model_dump(
                include={"to_stage", "changed_at", "from_stage", "position", "source"}
            ),
        )
        .on_conflict_do_nothing()
    )


async def quote_requested(
    session: AsyncSession,
    quote_id,
    client_id,
    currency: str,
    at: datetime,
    lines: list[QuotedLine],
) -> None:
    stmt = insert(QuoteFact).values(
        quote_id=quote_id, client_id=client_id, currency=currency, requested_at=at
    )
    await session.execute(stmt.on_conflict_do_nothing())
    await replace_quote_lines(session, quote_id, lines)


async def replace_quote_lines(session: AsyncSession, quote_id, lines: list[QuotedLine]) -> None:
    """The SKUs the quote is about now (the latest request or offer)."""
    if not lines:
        return
    await session.execute(delete(QuoteLineFact).where(QuoteLineFact.quote_id == quote_id))
    quantities: dict[str, object] = {}
    for line in lines:
        quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity  # type: ignore[operator]
    await session.execute(
        insert(QuoteLineFact),
        [{"quote_id": quote_id, "sku": sku, "quantity": q} for sku, q in quantities.items()],
    )


async def quote_offered(
    session: AsyncSession, quote_id, values: dict, lines: list[QuotedLine]
) -> None:
    await session.execute(update(QuoteFact).where(QuoteFact.quote_id == quote_id).values(**values))
    await replace_quote_lines(session, quote_id, lines)


async def quote_closed(session: AsyncSession, quote_id, values: dict) -> None:
    await session.execute(update(QuoteFact).where(QuoteFact.quote_id == quote_id).values(**values))


async def add_loss_reason(
    session: AsyncSession,
    *,
    kind: str,
    source_id: str,
    client_id,
    reason_code: str,
    detail: str | None,
    at: datetime,
) -> None:
    """One reason per cancellation, claim or questionnaire (a second answer replaces it)."""
    stmt = insert(LossReasonFact).values(
        kind=kind,
        source_id=source_id,
        client_id=client_id,
        reason_code=reason_code,
        detail=detail,
        at=at,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[LossReasonFact.kind, LossReasonFact.source_id],
            set_={"reason_code": stmt.excluded.reason_code, "detail": stmt.excluded.detail},
        )
    )
