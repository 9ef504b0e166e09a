"""Returns and complaints: a client (or its manager) records what went wrong with an order and
why; each is an event analytics aggregates into churn reasons by segment and manager."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from services.orders.api.access import SHOPPERS, visible_order
from services.orders.store.models import OrderClaim
from shared.auth import allow
from shared.clock import utcnow
from shared.contracts.orders import LossReason, OrderClaimRecordedV1
from shared.db import SessionDep
from shared.events.outbox import record_event
from shared.fields import MinorUnits, free_text
from shared.problems import FieldError, Unprocessable

router = APIRouter(tags=["returns and complaints"])


class ClaimCreate(BaseModel):
    kind: Literal["return", "complaint"]
    reason_code: LossReason = Field(
        description="What did not suit: product, service, sale, price, delivery, other"
    )
    comment: free_text(2000) | None = None
    amount_minor: MinorUnits | None = Field(None, description="Value returned (returns)")


class ClaimRead(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    kind: str
    reason_code: str
    comment: str | None
    amount_minor: int | None
    recorded_by: str
    recorded_at: datetime


def _read(claim: OrderClaim) -> ClaimRead:
    return ClaimRead(
        id=claim.id,
        order_id=claim.order_id,
        kind=claim.kind,
        reason_code=claim.reason_code,
        comment=claim.comment,
        amount_minor=claim.amount_minor,
        recorded_by=claim.recorded_by,
        recorded_at=claim.recorded_at,
    )


@router.post("/orders/{order_id}/claims", status_code=201, summary="Record a return or a complaint")
async def record_claim(
    order_id: uuid.UUID, body: ClaimCreate, session: SessionDep, principal: allow(*SHOPPERS)
) -> ClaimRead:
    order = await visible_order(session, principal, order_id)
    if body.amount_minor is not None and body.amount_minor > order.total_minor:
        raise Unprocessable(
            "More cannot be returned than the order was worth.",
            errors=[FieldError(field="amount_minor", message=f"at most {order.total_minor}")],
        )
    claim = OrderClaim(
        id=uuid.uuid4(),
        order_id=order.id,
        company_id=order.company_id,
        kind=body.kind,
        reason_code=body.reason_code,
        comment=body.comment,
        amount_minor=body.amount_minor,
        recorded_by=str(principal.subject),
        recorded_at=utcnow(),
    )
    session.add(claim)
    record_event(
        session,
        OrderClaimRecordedV1(
            order_id=order.id,
            company_id=order.company_id,
            claim_id=claim.id,
            number=order.number,
            kind=body.kind,
            reason_code=body.reason_code,
            comment=body.comment,
            amount_minor=body.amount_minor,
            currency=order.currency,
            recorded_by=claim.recorded_by,
            recorded_at=claim.recorded_at,
        ),
    )
    await session.flush()
    return _read(claim)


@router.get("/orders/{order_id}/claims", summary="An order's returns and complaints")
async def list_claims(
    order_id: uuid.UUID, session: SessionDep, principal: allow(*SHOPPERS)
) -> list[ClaimRead]:
    await visible_order(session, principal, order_id)
    rows = await session.scalars(
        select(OrderClaim).where(OrderClaim.order_id == order_id).order_by(OrderClaim.recorded_at)
    )
    return [_read(c) for c in rows]
