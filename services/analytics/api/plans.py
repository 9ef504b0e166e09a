"""Plan versus fact: a sales plan per client and month, set by its manager, against what was
actually shipped (delivered orders, valued at their prices) and ordered. The client sees its own;
staff the clients they reach (`shared.scope`)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from services.analytics.store import queries
from services.analytics.store.queries import CLIENTS
from shared.auth import CLIENT_READERS, Role, allow
from shared.db import SessionDep
from shared.fields import MONTH, CurrencyCode, MinorUnits
from shared.problems import FieldError, Unprocessable

router = APIRouter(tags=["plans"])
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


def first_day(month: str) -> date:
    """The first day of a `MONTH` (YYYY-MM)."""
    return date(int(month[:4]), int(month[5:7]), 1)


@router.put(
    "/clients/{client_id}/plans/{month}",
    summary="Set a client's sales plan for a month",
    responses={
        404: {"description": "A client accounts does not have, or not assigned to the manager"}
    },
)
async def put_plan(
    client_id: uuid.UUID,
    month: Annotated[str, Path(pattern=MONTH, description="YYYY-MM")],
    body: PlanUpdate,
    request: Request,
    session: SessionDep,
    principal: allow(*PLANNERS),
) -> PlanVsFact:
    await CLIENTS.ensure_known(
        session, principal, request.app.state.upstreams, {client_id: "client_id"}
    )
    first = first_day(month)
    await queries.set_plan(
        session, client_id, first, body.currency, body.plan_minor, str(principal.subject)
    )
    return (await _plan_vs_fact(session, client_id, first, first))[0]


@router.get(
    "/clients/{client_id}/plan-vs-fact",
    summary="Plan against shipments and orders per month",
    responses={404: {"description": "A client the caller does not reach"}},
)
async def plan_vs_fact(
    client_id: uuid.UUID,
    session: SessionDep,
    principal: allow(*READERS),
    from_month: Annotated[str, Query(alias="from", pattern=MONTH)],
    to_month: Annotated[str, Query(alias="to", pattern=MONTH)],
) -> list[PlanVsFact]:
    await CLIENTS.ensure(session, principal, client_id)
    first, last = first_day(from_month), first_day(to_month)
    if last < first or (last.year - first.year) * 12 + last.month - first.month >= 36:
        raise Unprocessable(
            "Choose up to 36 months, `from` before `to`.",
            errors=[FieldError(field="to", message="must be 0-35 months after from")],
        )
    return await _plan_vs_fact(session, client_id, first, last)


async def _plan_vs_fact(
    session: SessionDep, client_id: uuid.UUID, first: date, last: date
) -> list[PlanVsFact]:
    rows = await queries.plan_vs_fact(session, client_id, first, last)
    return [
        PlanVsFact(
            month=month.strftime("%Y-%m"),
            currency=currency,
            plan_minor=plan,
            shipped_minor=shipped,
            ordered_minor=ordered,
            completion=round(shipped / plan, 4) if plan else None,
        )
        for month, currency, plan, shipped, ordered in rows
    ]
