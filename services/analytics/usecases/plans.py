"""A client's sales plan per month against what was shipped and ordered."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.store import queries
from services.analytics.store.queries import CLIENTS
from shared.auth import Principal
from shared.problems import FieldError, Unprocessable
from shared.upstream import Upstreams

MAX_MONTHS = 36


async def set_plan(
    session: AsyncSession,
    principal: Principal,
    upstreams: Upstreams,
    client_id: uuid.UUID,
    month: date,
    currency: str,
    plan_minor: int,
) -> dict[str, Any]:
    """The plan of a client the caller reaches and accounts has; its month against the fact."""
    await CLIENTS.ensure_known(session, principal, upstreams, {client_id: "client_id"})
    await queries.set_plan(session, client_id, month, currency, plan_minor, str(principal.subject))
    return (await plan_vs_fact(session, principal, client_id, month, month))[0]


async def plan_vs_fact(
    session: AsyncSession, principal: Principal, client_id: uuid.UUID, first: date, last: date
) -> list[dict[str, Any]]:
    """Month by month, `first` to `last` (up to 36 months): plan, shipped, ordered, completion."""
    await CLIENTS.ensure(session, principal, client_id)
    if last < first or (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        raise Unprocessable(
            "Choose up to 36 months, `from` before `to`.",
            errors=[FieldError(field="to", message="must be 0-35 months after from")],
        )
    rows = await queries.plan_vs_fact(session, client_id, first, last)
    return [
        {
            "month": month.strftime("%Y-%m"),
            "currency": currency,
            "plan_minor": plan,
            "shipped_minor": shipped,
            "ordered_minor": ordered,
            "completion": round(shipped / plan, 4) if plan else None,
        }
        for month, currency, plan, shipped, ordered in rows
    ]
