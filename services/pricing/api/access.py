"""Who may see which client's prices."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.store import prices as store
from shared.auth import Principal
from shared.problems import NotFound


async def may_see(session: AsyncSession, principal: Principal, company_id: uuid.UUID) -> None:
    """A client's people see only the company they act for, a sales manager only the clients
    assigned to it; another's answers 404, as an unknown client does."""
    principal.ensure_company(company_id)
    manager = principal.assigned_manager
    if manager is not None and not await store.manages(session, manager, company_id):
        raise NotFound("The pricing service knows no such client.")
