"""Feedback: a buyer scores a touchpoint (portal, manager, delivery, product) after an order."""

from __future__ import annotations

from fastapi import APIRouter

from services.analytics.api.schemas import FeedbackCreate, FeedbackRead
from services.analytics.recompute import recompute_clients
from services.analytics.store import queries
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.problems import Conflict, FieldError, Unprocessable

router = APIRouter(tags=["feedback"])


@router.post(
    "/feedback",
    status_code=201,
    summary="Score a touchpoint (NPS 0-10, CSAT 1-5), usually after an order",
    responses={409: {"description": "Already answered"}, 422: {"description": "Not your order"}},
)
async def post_feedback(
    body: FeedbackCreate, session: SessionDep, principal: allow(Role.BUYER, Role.COMPANY_ADMIN)
) -> FeedbackRead:
    company_id = principal.company_id
    if company_id is None:
        raise Unprocessable("Choose the company you act for first (switch company).")
    if (
        body.order_id is not None
        and await queries.order_client(session, body.order_id) != company_id
    ):
        raise Unprocessable(
            "No such order of your company.",
            errors=[FieldError(field="order_id", message="is not an order of your company")],
        )
    row = await queries.add_feedback(
        session,
        {
            "client_id": company_id,
            "order_id": body.order_id,
            "touchpoint": body.touchpoint,
            "nps": body.nps,
            "csat": body.csat,
            "comment": body.comment,
            "submitted_by": str(principal.subject),
        },
    )
    if row is None:
        raise Conflict("You have already scored this touchpoint of this order.")
    await recompute_clients(session, [company_id])
    return FeedbackRead.model_validate(row, from_attributes=True)
