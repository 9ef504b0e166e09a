"""Helpers of the use-case tests: what a flow left in the outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.outbox import OutboxMessage


async def recorded(session: AsyncSession, event_type: str) -> list[dict[str, Any]]:
    """The data of the events of `event_type` in the outbox, oldest first (the session does
    not flush by itself)."""
    await session.flush()
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.type.like(f"%{event_type}%"))
        .order_by(OutboxMessage.seq)
    )
    return [row.payload["data"] for row in rows]
