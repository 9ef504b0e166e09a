"""Feedback: a buyer scores a touchpoint (portal, manager, delivery, product) after an order."""

from __future__ import annotations

from fastapi import APIRouter

from services.analytics.api.deps import SettingsDep
from services.analytics.api.schemas import FeedbackCreate, FeedbackRead
from services.analytics.usecases.feedback import give_feedback
from shared.auth import Role, allow
from shared.db import SessionDep

router = APIRouter(tags=["feedback"])


@router.post(
    "/feedback",
    status_code=201,
    summary="Score a touchpoint (NPS 0-10, CSAT 1-5), usually after an order",
    responses={409: {"description": "Already answered"}, 422: {"description": "Not your order"}},
)
async def post_feedback(
    body: FeedbackCreate,
    settings: SettingsDep,
    session: SessionDep,
    principal: allow(Role.BUYER, Role.COMPANY_ADMIN),
) -> FeedbackRead:
    answer = body.model_dump(include={"order_id", "touchpoint", "nps", "csat", "comment"})
    row = await give_feedback(session, settings, principal, answer)
    return FeedbackRead.model_validate(row, from_attributes=True)
