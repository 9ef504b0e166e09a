"""A sales manager's work queue: the clients assigned to them that need action now, each with
the reasons (churn risk raised, overdue receivables), most at risk first."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.analytics.api.deps import ReportPageDep
from services.analytics.store import queries
from services.analytics.store.models import Client, ClientSegment
from shared import display
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.pagination import Page, PageParams, page_of
from shared.problems import NotFound
from shared.scope import assigned_manager

router = APIRouter(tags=["work queues"])
pages = APIRouter(tags=["work queues"])


class QueueReason(BaseModel):
    kind: Literal["churn_risk", "overdue"]
    detail: str


class QueueItem(BaseModel):
    client_id: uuid.UUID
    legal_name: str | None
    currency: str
    churn_score: int | None
    overdue_minor: int
    revenue_minor: int
    reasons: list[QueueReason]


@pages.get(
    "/managers/{manager_id}/work-queue",
    summary="Clients of a sales manager that need action now, with the reasons",
    description="Most at risk first (the highest churn score, then by client id). `limit` is "
    "how many clients the answer holds: version 1 answers the first `limit` of the queue; "
    "version 2 pages the whole queue `limit` clients at a time (the page's own `limit`), so "
    "its first page is version 1's answer.",
    responses={404: {"description": "Another manager's queue"}},
)
async def work_queue(
    manager_id: uuid.UUID,
    session: SessionDep,
    principal: allow(Role.SALES_MANAGER, Role.HEAD_OF_SALES, Role.ADMIN),
    page: ReportPageDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[QueueItem]:
    # A sales manager reads its own queue; the head of sales and admins any manager's.
    bound = assigned_manager(principal)
    if bound is not None and bound != manager_id:
        raise NotFound("No such work queue.")
    # Version 1 answers the first page. It needs the first `limit` clients and whether one
    # follows; a later page, all of them.
    found = await queries.needing_action(session, manager_id, None if page.cursor else limit + 1)
    first_or_next = PageParams(cursor=page.cursor, limit=limit)
    rows, cursor = page_of(found, _most_at_risk_first, first_or_next)
    items = []
    for seg, who in rows:
        reasons = []
        if seg.churn_raised:
            reasons.append(
                QueueReason(
                    kind="churn_risk",
                    detail=f"churn risk {seg.churn_score}: {seg.metrics.get('churn_reason')}",
                )
            )
        if who.overdue_minor > 0:
            often = seg.payment_behaviour == "buys_often_pays_late"
            reasons.append(
                QueueReason(
                    kind="overdue",
                    detail=f"overdue {display.money(who.overdue_minor, seg.currency)}"
                    + (" while buying often" if often else ""),
                )
            )
        items.append(
            QueueItem(
                client_id=seg.client_id,
                legal_name=who.legal_name,
                currency=seg.currency,
                churn_score=seg.churn_score,
                overdue_minor=who.overdue_minor,
                revenue_minor=seg.revenue_minor,
                reasons=reasons,
            )
        )
    return Page(items=items, next_cursor=cursor)


def _most_at_risk_first(row: tuple[ClientSegment, Client]) -> tuple[int | str, ...]:
    """The query's order (churn score descending, no score last, then client id) as a key."""
    score = row[0].churn_score
    return (int(score is None), -(score or 0), str(row[0].client_id))
