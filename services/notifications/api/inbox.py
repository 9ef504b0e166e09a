"""The in-app inbox: a person's messages for the company it acts for, unread count, mark read."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from services.notifications.usecases import inbox as usecase
from services.notifications.usecases.access import PEOPLE
from shared.auth import allow
from shared.db import SessionDep
from shared.pagination import Page, PageParams, page_params

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


@router.get("/inbox", summary="My inbox, newest first")
async def list_inbox(
    session: SessionDep,
    principal: allow(*PEOPLE),
    page: Annotated[PageParams, Depends(page_params)],
    unread: bool = False,
) -> Page[InboxMessage]:
    rows, cursor = await usecase.messages(session, principal, page, unread=unread)
    return Page(
        items=[InboxMessage.model_validate(m, from_attributes=True) for m in rows],
        next_cursor=cursor,
    )


@router.get("/inbox/unread-count", summary="How many of my inbox messages are unread")
async def unread_count(session: SessionDep, principal: allow(*PEOPLE)) -> UnreadCount:
    return UnreadCount(unread=await usecase.unread_count(session, principal))


@router.post("/inbox/{message_id}/read", status_code=204, summary="Mark one message read")
async def mark_read(
    message_id: uuid.UUID, session: SessionDep, principal: allow(*PEOPLE)
) -> Response:
    await usecase.mark_read(session, principal, message_id)
    return Response(status_code=204)


@router.post("/inbox/read-all", status_code=204, summary="Mark all my inbox messages read")
async def mark_all_read(session: SessionDep, principal: allow(*PEOPLE)) -> Response:
    await usecase.mark_all_read(session, principal)
    return Response(status_code=204)
