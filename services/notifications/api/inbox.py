"""The in-app inbox: a person's messages for the company it acts for, unread count, mark read."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel
from sqlalchemy import or_, select, update

from services.notifications.api.access import PEOPLE, person
from services.notifications.store import messages as store
from services.notifications.store.models import Message
from shared.auth import Principal, allow
from shared.clock import utcnow
from shared.db import SessionDep
from shared.pagination import Page, PageParams, page_params, paginate
from shared.problems import NotFound

router = APIRouter(tags=["inbox"])


class InboxMessage(BaseModel):
    id: uuid.UUID
    kind: str
    subject: str
    body: str
    company_id: uuid.UUID | None
    event_type: str
    created_at: datetime
    read_at: datetime | None


class UnreadCount(BaseModel):
    unread: int


def _mine(principal: Principal):  # type: ignore[no-untyped-def]
    """A person's delivered inbox messages; a client's user sees only the company it acts for."""
    stmt = select(Message).where(
        Message.recipient_id == person(principal),
        Message.channel == "inbox",
        Message.status == "delivered",
    )
    if not principal.is_staff:
        stmt = stmt.where(
            or_(Message.company_id == principal.company_id, Message.company_id.is_(None))
        )
    return stmt


@router.get("/inbox", summary="My inbox, newest first")
async def list_inbox(
    session: SessionDep,
    principal: allow(*PEOPLE),
    page: Annotated[PageParams, Depends(page_params)],
    unread: bool = False,
) -> Page[InboxMessage]:
    stmt = _mine(principal)
    if unread:
        stmt = stmt.where(Message.read_at.is_(None))
    rows, cursor = await paginate(
        session, stmt, [Message.created_at, Message.id], page, newest_first=True
    )
    return Page(
        items=[InboxMessage.model_validate(m, from_attributes=True) for m in rows],
        next_cursor=cursor,
    )


@router.get("/inbox/unread-count", summary="How many of my inbox messages are unread")
async def unread_count(session: SessionDep, principal: allow(*PEOPLE)) -> UnreadCount:
    company = None if principal.is_staff else principal.company_id
    return UnreadCount(unread=await store.unread_count(session, person(principal), company))


@router.post("/inbox/{message_id}/read", status_code=204, summary="Mark one message read")
async def mark_read(
    message_id: uuid.UUID, session: SessionDep, principal: allow(*PEOPLE)
) -> Response:
    found = await session.scalar(_mine(principal).where(Message.id == message_id))
    if found is None:
        raise NotFound("No such message.")
    if found.read_at is None:
        found.read_at = utcnow()
    return Response(status_code=204)


@router.post("/inbox/read-all", status_code=204, summary="Mark all my inbox messages read")
async def mark_all_read(session: SessionDep, principal: allow(*PEOPLE)) -> Response:
    ids = _mine(principal).where(Message.read_at.is_(None)).with_only_columns(Message.id)
    await session.execute(update(Message).where(Message.id.in_(ids)).values(read_at=utcnow()))
    return Response(status_code=204)
