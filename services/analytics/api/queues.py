"""A sales manager's work queue: the clients assigned to them that need action now, each with
the reasons (churn risk raised, overdue receivables), most at risk first."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.analytics.store import queries
from shared import display
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.problems import NotFound
from shared.scope import assigned_manager

router = APIRouter(tags=["work queues"])


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


@router.get(
    "/managers/{manager_id}/work-queue",
    summary="Clients of a sales manager that need action now, with the reasons",
    responses={404: {"description": "Another manager's queue"}},
)
async def work_queue(
    manager_id: uuid.UUID,
    session: SessionDep,
    principal: allow(Role.SALES_MANAGER, Role.HEAD_OF_SALES, Role.ADMIN),
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[QueueItem]:
    # A sales manager reads its own queue; the head of sales and admins any manager's.
    bound = assigned_manager(principal)
    if bound is not None and bound != manager_id:
        raise NotFound("No such work queue.")
    items = []
    for seg, who in await queries.needing_action(session, manager_id, limit):
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
    return items
