"""Who may touch which company: staff the clients they reach (`shared.scope`: a sales manager
the companies assigned to it, the head of sales, pricing managers and admins every one); a
client's user only the companies it belongs to. Another answers 404, as an unknown id does.

Membership is read from the database, not from the token, so a buyer removed from a company
loses access at once rather than when the token expires. The assignment is read from
`companies.sales_manager_id` here, where it is kept, so a reassigned client moves at once.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.store import companies as company_store
from services.accounts.store import people
from services.accounts.store.models import Company, Membership
from shared.auth import PEOPLE_ROLES, Principal, Role
from shared.problems import Forbidden, NotFound, PreconditionFailed, ProblemError
from shared.scope import ClientScope

CLIENT_ROLES = (Role.BUYER, Role.COMPANY_ADMIN)
STAFF = (Role.ADMIN, Role.HEAD_OF_SALES, Role.SALES_MANAGER)
PEOPLE = tuple(PEOPLE_ROLES)
CLIENTS = ClientScope(Company.id, Company.sales_manager_id)


def user_id(principal: Principal) -> uuid.UUID:
    if principal.user_id is None:
        raise Forbidden("Only a person can do this.")
    return principal.user_id


async def _membership(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID
) -> Membership | None:
    if principal.user_id is None:
        return None
    return await people.membership(session, principal.user_id, company_id)


async def visible_company(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID, *, lock: bool = False
) -> Company:
    """The company if the caller may see it: staff (and services) the clients they reach, a
    client's user the companies it belongs to; any other is 404."""
    if principal.is_staff:
        await CLIENTS.ensure(session, principal, company_id)
    elif await _membership(session, principal, company_id) is None:
        raise NotFound("No such company.")
    return await company_store.get_company(session, company_id, lock=lock)


async def administered_company(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID
) -> Company:
    """The company if the caller administers it: sales staff and admins who reach it (a sales
    manager only its assigned clients), or its own company admin."""
    if principal.has_any(*STAFF):
        await CLIENTS.ensure(session, principal, company_id)
    else:
        member = await _membership(session, principal, company_id)
        if member is None:
            raise NotFound("No such company.")
        if member.role != Role.COMPANY_ADMIN:
            raise Forbidden("Only the company's admin can do this.")
    return await company_store.get_company(session, company_id)


class PreconditionRequired(ProblemError):
    status, slug = 428, "precondition-required"


def etag(version: int) -> str:
    return f'"v{version}"'


def check_if_match(if_match: str | None, version: int, what: str = "company") -> None:
    """Optimistic concurrency: a write must name the version it read."""
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the ETag you read.")
    if if_match.strip() not in (etag(version), f"W/{etag(version)}", "*"):
        raise PreconditionFailed(
            f"The {what} changed since you read it; read it again.",
            headers={"ETag": etag(version)},
        )
