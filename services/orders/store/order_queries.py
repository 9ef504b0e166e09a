"""Reading orders: by reference (ours or ERP's), the history with its filters, the export's
lines streamed, an order's audit trail, claims and documents."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.store.models import (
    Order,
    OrderClaim,
    OrderDocument,
    OrderLine,
    OrderTransition,
)


async def _of_order(
    session: AsyncSession, order_id: uuid.UUID, model: Any, *order_by: Any
) -> list[Any]:
    """The rows of `model` (a table with an order_id) that belong to the order, sorted."""
    stmt = select(model).where(model.order_id == order_id).order_by(*order_by)
    return list(await session.scalars(stmt))


async def history_of(session: AsyncSession, order_id: uuid.UUID) -> list[OrderTransition]:
    """The order's audit trail, oldest first."""
    return await _of_order(session, order_id, OrderTransition, OrderTransition.id)


async def by_reference(session: AsyncSession, reference: str) -> Order | None:
    """The order by our number or ERP's."""
    return await session.scalar(
        select(Order).where(or_(Order.number == reference, Order.external_id == reference))
    )


async def locked_by_reference(session: AsyncSession, references: list[str]) -> dict[str, Order]:
    """Both our numbers and ERP's, in one query, locked in a fixed order (no deadlocks)."""
    found = await session.scalars(
        select(Order)
        .where(or_(Order.number.in_(references), Order.external_id.in_(references)))
        .order_by(Order.id)
        .with_for_update()
    )
    by_ref: dict[str, Order] = {}
    for order in found:
        by_ref[order.number] = order
        if order.external_id:
            by_ref[order.external_id] = order
    return by_ref


async def known_external_ids(session: AsyncSession, external_ids: list[str]) -> set[str]:
    found = await session.scalars(
        select(Order.external_id).where(Order.external_id.in_(external_ids))
    )
    return set(found)


def to_fulfil(status: str) -> Any:
    """What ERP imports: orders in `status` that did not come from ERP itself."""
    return select(Order).where(Order.status == status, Order.source != "erp")


@dataclass(frozen=True)
class HistoryFilters:
    company_id: uuid.UUID | None = None
    status: list[str] | None = None
    source: str | None = None
    placed_from: date | None = None
    placed_to: date | None = None  # inclusive
    sku: str | None = None


def history(narrow: Any, company_id: uuid.UUID | None, f: HistoryFilters) -> Any:
    """The order history query: `narrow` limits a query to the caller's clients; a
    `company_id` to one of them."""
    stmt = narrow(select(Order), Order.company_id)
    if company_id is not None:
        stmt = stmt.where(Order.company_id == company_id)
    if f.status:
        stmt = stmt.where(Order.status.in_(f.status))
    if f.source:
        stmt = stmt.where(Order.source == f.source)
    if f.placed_from:
        stmt = stmt.where(Order.placed_at >= f.placed_from)
    if f.placed_to:
        stmt = stmt.where(Order.placed_at < f.placed_to + timedelta(days=1))
    if f.sku:
        stmt = stmt.where(
            select(OrderLine.order_id)
            .where(OrderLine.order_id == Order.id, OrderLine.sku == f.sku)
            .exists()
        )
    return stmt


async def stream_lines(
    session: AsyncSession, orders: Any, batch: int
) -> AsyncIterator[tuple[Order, OrderLine]]:
    """Every line of the orders the query selects, newest order first, streamed."""
    lines = (
        select(Order, OrderLine)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.id.in_(orders.with_only_columns(Order.id)))
        .order_by(Order.placed_at.desc(), Order.id, OrderLine.line_no)
    )
    result = await session.stream(lines.execution_options(yield_per=batch))
    async for order, line in result:
        yield order, line


async def claims_of(session: AsyncSession, order_id: uuid.UUID) -> list[OrderClaim]:
    return await _of_order(session, order_id, OrderClaim, OrderClaim.recorded_at)


async def documents_of(session: AsyncSession, order_id: uuid.UUID) -> list[OrderDocument]:
    return await _of_order(
        session, order_id, OrderDocument, OrderDocument.uploaded_at, OrderDocument.id
    )
