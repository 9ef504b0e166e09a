"""The in-app inbox: a person reads its messages for the company it acts for (staff: all of
theirs), counts the unread ones and marks them read."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.store import inbox as store
from services.notifications.store.models import Message
from services.notifications.usecases.access import person
from shared.auth import Principal
from shared.clock import utcnow
from shared.pagination import PageParams
from shared.problems import NotFound


def _company(principal: Principal) -> uuid.UUID | None:
    """The company whose messages a client's user sees; staff see every one of theirs."""
    return None if principal.is_staff else principal.company_id


async def messages(
    session: AsyncSession, principal: Principal, page: PageParams, *, unread: bool
) -> tuple[list[Message], str | None]:
    return await store.page_of(session, person(principal), _company(principal), page, unread=unread)


async def unread_count(session: AsyncSession, principal: Principal) -> int:
    return await store.unread_count(session, person(principal), _company(principal))


async def mark_read(session: AsyncSession, principal: Principal, message_id: uuid.UUID) -> None:
    found = await store.find(session, person(principal), _company(principal), message_id)
    if found is None:
        raise NotFound("No such message.")
    if found.read_at is None:
        found.read_at = utcnow()


async def mark_all_read(session: AsyncSession, principal: Principal) -> None:
    await store.mark_all_read(session, person(principal), _company(principal), utcnow())
