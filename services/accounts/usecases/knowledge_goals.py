"""Knowledge goals: what the seller means to learn about a client in a year. Staff only."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.store import companies as store
from services.accounts.store.models import KnowledgeGoal
from services.accounts.usecases.access import visible_company
from shared.auth import Principal
from shared.clock import utcnow
from shared.pagination import PageParams


async def goals(
    session: AsyncSession,
    principal: Principal,
    company_id: uuid.UUID,
    year: int | None,
    page: PageParams,
) -> tuple[list[KnowledgeGoal], str | None]:
    await visible_company(session, principal, company_id)
    return await store.goals(session, company_id, year, page)


async def set_goal(
    session: AsyncSession,
    principal: Principal,
    company_id: uuid.UUID,
    year: int,
    code: str,
    values: dict[str, Any],
) -> KnowledgeGoal:
    """Creates the goal of that year and code, or replaces its title, status, date and note."""
    await visible_company(session, principal, company_id)
    goal = await store.goal(session, company_id, year, code)
    if goal is None:
        goal = KnowledgeGoal(company_id=company_id, year=year, code=code)
        session.add(goal)
    for name, value in values.items():
        setattr(goal, name, value)
    goal.updated_at = utcnow()
    goal.updated_by = principal.user_id
    await session.flush()
    return goal
