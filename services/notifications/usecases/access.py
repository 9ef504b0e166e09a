"""Who may do what in notifications. Every endpoint names its roles explicitly."""

from __future__ import annotations

import uuid

from shared.auth import Principal, Role
from shared.problems import Forbidden, NotFound
from shared.scope import ensure_own_company

PEOPLE = (Role.BUYER, Role.COMPANY_ADMIN, Role.SALES_MANAGER, Role.ADMIN)
COMPANY_MANAGERS = (Role.COMPANY_ADMIN, Role.ADMIN)
RULE_ADMINS = (Role.ADMIN,)


def person(principal: Principal) -> uuid.UUID:
    if principal.user_id is None:
        raise Forbidden("Only a person has an inbox and preferences.")
    return principal.user_id


def managed_company(principal: Principal, company_id: uuid.UUID) -> uuid.UUID:
    """A company admin manages only the company it acts for (`shared.scope`); an admin any.
    No endpoint here lets a sales manager manage a company, so no projection is asked."""
    if not principal.has_any(*COMPANY_MANAGERS):
        raise NotFound("No such company.")
    ensure_own_company(principal, company_id)
    return company_id
