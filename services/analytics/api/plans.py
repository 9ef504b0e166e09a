"""Plan versus fact: a sales plan per client and month, set by its manager, against what was
actually shipped (delivered orders, valued at their prices) and ordered. The client sees its own;
staff the clients they reach (`shared.scope`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from services.analytics.api.deps import UpstreamsDep
from services.analytics.api.responses import UNASSIGNED_CLIENT
from services.analytics.domain.periods import first_day
from services.analytics.usecases import plans as usecase
from shared.auth import CLIENT_READERS, Role, allow
from shared.db import SessionDep
from shared.fields import MONTH, CurrencyCode, MinorUnits
from shared.pagination import Page, PageDep, page_of

router = APIRouter(tags=["plans"])
pages = APIRouter(tags=["plans"])
READERS = CLIENT_READERS
PLANNERS = (Role.SALES_MANAGER, Role.HEAD_OF_SALES, Role.ADMIN)


class PlanUpdate(BaseModel):
    plan_minor: MinorUnits
    currency: CurrencyCode


class PlanVsFact(BaseModel):
    month: str
    currency: str | None
    plan_minor: int | None
    shipped_minor: int = Field(description="Delivered in the month, at the orders' prices")
    ordered_minor: int = Field(description="Placed in the month (counted orders)")
    completion: float | None = Field(description="shipped / plan")


@router.put(
    "/clients/{client_id}/plans/{month}",
    summary="Set a client's sales plan for a month",
    responses=UNASSIGNED_CLIENT,
)
async def put_plan(
    client_id: uuid.UUID,
    month: Annotated[str, Path(pattern=MONTH, description="YYYY-MM")],
    body: PlanUpdate,
    upstreams: UpstreamsDep,
    session: SessionDep,
    principal: allow(*PLANNERS),
) -> PlanVsFact:
    first = first_day(month)
    row = await usecase.set_plan(
        session, principal, upstreams, client_id, first, body.currency, body.plan_minor
    )
    return PlanVsFact(**row)


@pages.get(
    "/clients/{client_id}/plan-vs-fact",
    summary="Plan against shipments and orders per month, by month",
    responses={404: {"description": "A client the caller does not reach"}},
)
async def plan_vs_fact(
    client_id: uuid.UUID,
    session: SessionDep,
    principal: allow(*READERS),
    from_month: Annotated[str, Query(alias="from", pattern=MONTH)],
    to_month: Annotated[str, Query(alias="to", pattern=MONTH)],
    page: PageDep,
) -> Page[PlanVsFact]:
    first, last = first_day(from_month), first_day(to_month)
    rows = await usecase.plan_vs_fact(session, principal, client_id, first, last)
    return Page.of(page_of(rows, lambda r: (r["month"],), page), lambda r: PlanVsFact(**r))
