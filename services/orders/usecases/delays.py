"""Slips are told: when ERP moves an order's promised date later, or the promised window
ends with the order not delivered, `order.delayed` goes out (through the outbox) once per
order and date; the buyer and the client's manager hear of it (notifications' built-in
rules) and the delivery counts as late (OTIF, `domain/delays.py`)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.orders.domain.delays import slipped
from services.orders.store import delays as store
from services.orders.store.models import Order
from services.orders.store.orders import record_order_event
from shared.clock import today, utcnow
from shared.contracts.orders import OrderDelayedV1

# Orders recorded per transaction by the missed-window check; a full batch runs again at once.
MISSED_BATCH = 500


async def tell_if_slipped(
    session: AsyncSession, order: Order, before: date | None, note: str | None, at: datetime
) -> bool:
    """`order.delayed` when the order's promised date is now later than `before` and this date
    was not told already; True when it was told now."""
    if not slipped(before, order.promised_to):
        return False
    assert before is not None and order.promised_to is not None
    if not await store.record(
        session, order.id, "date_moved", order.promised_to, at, moved_from=before, note=note
    ):
        return False
    record_order_event(
        session,
        OrderDelayedV1,
        order,
        reason="date_moved",
        previous_promised_to=before,
        promised_from=order.promised_from,
        promised_to=order.promised_to,
        note=note,
        delayed_at=at,
    )
    return True


async def tell_missed_windows(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """One pass of the check: orders still on their way after the last day of their window
    (by the clock) get `order.delayed` (window_missed), each window once, whichever process
    finds it first. Returns how many were told; a full batch means more may wait."""
    now = utcnow()
    async with sessionmaker.begin() as session:
        missed = await store.record_missed_windows(session, today(), now, MISSED_BATCH)
        for row in missed:
            record_order_event(
                session,
                OrderDelayedV1,
                row,
                reason="window_missed",
                previous_promised_to=row.promised_to,
                promised_from=None,
                promised_to=None,
                delayed_at=now,
            )
    return len(missed)
