"""The seller's calls, meetings, e-mails and visits with a client: recorded by the manager (or
by staff naming the manager), read by the staff who reach the client; a client's people see
none. An interaction may achieve one of the client's knowledge goals, in the same transaction.
Each is told to other services (`interaction.recorded`)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.domain.contacts import next_step_problem
from services.accounts.store import companies as company_store
from services.accounts.store import contacts as store
from services.accounts.store.models import Interaction
from services.accounts.usecases.access import user_id, visible_company
from shared.auth import Principal
from shared.clock import utcnow
from shared.pagination import PageParams
from shared.problems import FieldError, NotFound, Unprocessable

ACHIEVED = "achieved"


async def interactions(
    session: AsyncSession,
    principal: Principal,
    company_id: uuid.UUID,
    page: PageParams,
    contact_id: uuid.UUID | None = None,
) -> tuple[list[Interaction], str | None]:
    await visible_company(session, principal, company_id)
    return await store.interactions(session, company_id, page, contact_id)


async def get_interaction(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID, interaction_id: uuid.UUID
) -> Interaction:
    await visible_company(session, principal, company_id)
    found = await store.interaction(session, company_id, interaction_id)
    if found is None:
        raise NotFound("No such interaction.")
    return found


async def record_interaction(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID, values: dict[str, Any]
) -> Interaction:
    """`values`: kind, occurred_at, and optionally contact_id (a contact of this client),
    manager_id (default: the caller), outcome, next_step, next_step_date and
    knowledge_goal_id (a goal of this client, marked achieved)."""
    await visible_company(session, principal, company_id)
    values = dict(values)
    values["manager_id"] = values.get("manager_id") or user_id(principal)
    errors = []
    contact_id = values.get("contact_id")
    if contact_id and await store.contact(session, company_id, contact_id) is None:
        errors.append(FieldError(field="contact_id", message="is not a contact of this client"))
    if not await company_store.is_sales_staff(session, values["manager_id"]):
        errors.append(FieldError(field="manager_id", message="is not one of the seller's staff"))
    problem = next_step_problem(values.get("next_step_date"), values["occurred_at"])
    if problem:
        errors.append(FieldError(field="next_step_date", message=problem))
    goal_id = values.get("knowledge_goal_id")
    goal = await store.goal(session, company_id, goal_id) if goal_id else None
    if goal_id and goal is None:
        errors.append(
            FieldError(field="knowledge_goal_id", message="is not a knowledge goal of this client")
        )
    if errors:
        raise Unprocessable("The interaction has invalid fields.", errors=errors)

    interaction = Interaction(company_id=company_id, recorded_by=str(principal.subject), **values)
    session.add(interaction)
    if goal is not None and goal.status != ACHIEVED:
        goal.status, goal.updated_at, goal.updated_by = ACHIEVED, utcnow(), principal.user_id
    await session.flush()
    store.record_interaction(session, interaction)
    return interaction
