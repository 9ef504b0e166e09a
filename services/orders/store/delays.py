"""Slipped promises told (order_delays): one row per order, reason and date, written with
ON CONFLICT DO NOTHING, so a repeat (ERP's, or another pass of the check in any process)
writes nothing and tells nobody again."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.store.models import OrderDelay


async def record(
    session: AsyncSession,
    order_id: uuid.UUID,
    reason: str,
    promised_to: date,
    at: datetime,
    *,
    moved_from: date | None = None,
    note: str | None = None,
) -> bool:
    """True when the delay is new; False when it was recorded (and told) before."""
    written = await session.scalar(
        insert(OrderDelay)
        .values(
            order_id=order_id,
            reason=reason,
            promised_to=promised_to,
            moved_from=moved_from,
            note=note,
            at=at,
        )
        .on_conflict_do_nothing()
        .returning(OrderDelay.id)
    )
    return written is not None


async def earliest_moved_from(session: AsyncSession, order_id: uuid.UUID) -> date | None:
    """The earliest promised date ERP moved the order's delivery from; None if it never did."""
    return await session.scalar(
        select(func.min(OrderDelay.moved_from)).where(
            OrderDelay.order_id == order_id, OrderDelay.reason == "date_moved"
        )
    )


# The orders still on their way whose window ended before today, each recorded as missed in
# the same statement; an order whose window was recorded already (by an earlier pass, or by
# another process at the same moment: the unique index waits for it) comes back no more.
MISSED_WINDOWS = text(
    """
    WITH missed AS (
        INSERT INTO order_delays (order_id, reason, promised_to, at)
        SELECT o.id, 'window_missed', o.promised_to, :at
        FROM orders o
        WHERE o.status IN ('placed', 'confirmed', 'shipped') AND o.promised_to < :today
          AND NOT EXISTS (
              SELECT 1 FROM order_delays d
              WHERE d.order_id = o.id AND d.reason = 'window_missed'
                AND d.promised_to = o.promised_to
          )
        ORDER BY o.promised_to, o.id
        LIMIT :limit
        ON CONFLICT DO NOTHING
        RETURNING order_id, promised_to
    )
    SELECT o.id, o.company_id, o.number, missed.promised_to
    FROM missed JOIN orders o ON o.id = missed.order_id
    ORDER BY missed.promised_to, o.id
    """
)


async def record_missed_windows(
    session: AsyncSession, today: date, at: datetime, limit: int
) -> list[Any]:
    """At most `limit` orders whose window ended before `today` undelivered, newly recorded
    as missed: their id, company, number and the date missed."""
    rows = await session.execute(MISSED_WINDOWS, {"today": today, "at": at, "limit": limit})
    return list(rows.all())
