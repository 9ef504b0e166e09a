"""A person's in-app inbox: its delivered inbox messages, for the company it acts for."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.store.models import Message
from shared.pagination import PageParams, paginate


def _mine(recipient_id: uuid.UUID, company_id: uuid.UUID | None) -> Select[Any]:
    """A person's delivered inbox messages; with `company_id` (a client's user) only that
    company's and those about no company."""
    stmt = select(Message).where(
        Message.recipient_id == recipient_id,
        Message.channel == "inbox",
        Message.status == "delivered",
    )
    if company_id is not None:
        stmt = stmt.where(or_(Message.company_id == company_id, Message.company_id.is_(None)))
    return stmt


async def page_of(
    session: AsyncSession,
    recipient_id: uuid.UUID,
    company_id: uuid.UUID | None,
    page: PageParams,
    *,
    unread: bool,
) -> tuple[list[Message], str | None]:
    stmt = _mine(recipient_id, company_id)
    if unread:
        stmt = stmt.where(Message.read_at.is_(None))
    rows, cursor = await paginate(
        session, stmt, [Message.created_at, Message.id], page, newest_first=True
    )
    return list(rows), cursor


async def find(
    session: AsyncSession,
    recipient_id: uuid.UUID,
    company_id: uuid.UUID | None,
    message_id: uuid.UUID,
) -> Message | None:
    return await session.scalar(_mine(recipient_id, company_id).where(Message.id == message_id))


async def mark_all_read(
    session: AsyncSession, recipient_id: uuid.UUID, company_id: uuid.UUID | None, now: datetime
) -> None:
    ids = (
        _mine(recipient_id, company_id)
        .where(Message.read_at.is_(None))
        .with_only_columns(Message.id)
    )
    await session.execute(update(Message).where(Message.id.in_(ids)).values(read_at=now))


async def unread_count(
    session: AsyncSession, recipient_id: uuid.UUID, company_id: uuid.UUID | None
) -> int:
    stmt = (
        _mine(recipient_id, company_id)
        .where(Message.read_at.is_(None))
        .with_only_columns(func.count())
        .order_by(None)
    )
    return int(await session.scalar(stmt) or 0)
