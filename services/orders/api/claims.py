"""Returns and complaints: a client (or its manager) records what went wrong with an order and
why; each is an event analytics aggregates into churn reasons by segment and manager."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.orders.store.models import OrderClaim
from services.orders.usecases import after_sales as usecase
from services.orders.usecases.access import SHOPPERS
from shared.auth import allow
from shared.contracts.orders import LossReason
from shared.db import SessionDep
from shared.fields import MinorUnits, multiline
from shared.pagination import Page, PageDep

router = APIRouter(tags=["returns and complaints"])
pages = APIRouter(tags=["returns and complaints"])


class ClaimCreate(BaseModel):
    kind: Literal["return", "complaint"]
    reason_code: LossReason = Field(
        description="What did not suit: product, service, sale, price, delivery, other"
    )
    comment: multiline(2000) | None = None
    amount_minor: MinorUnits | None = Field(None, description="Value returned (returns)")


class ClaimRead(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    kind: Literal["return", "complaint"]
    reason_code: str
    comment: str | None
    amount_minor: int | None
    recorded_by: str
    recorded_at: datetime


def _read(claim: OrderClaim) -> ClaimRead:
    return ClaimRead.model_validate(claim, from_attributes=True)


@router.post("/orders/{order_id}/claims", status_code=201, summary="Record a return or a complaint")
async def record_claim(
    order_id: uuid.UUID, body: ClaimCreate, session: SessionDep, principal: allow(*SHOPPERS)
) -> ClaimRead:
    claim = await usecase.record_claim(
        session,
        principal,
        order_id,
        body.kind,
        body.reason_code,
        body.comment,
        body.amount_minor,
    )
    return _read(claim)


@pages.get("/orders/{order_id}/claims", summary="An order's returns and complaints, oldest first")
async def list_claims(
    order_id: uuid.UUID, session: SessionDep, principal: allow(*SHOPPERS), page: PageDep
) -> Page[ClaimRead]:
    return Page.of(await usecase.claims_of(session, principal, order_id, page), _read)
