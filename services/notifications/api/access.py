"""Who may do what in notifications. Every endpoint names its roles explicitly."""

from __future__ import annotations

import uuid

from shared.auth import Principal, Role
from shared.problems import Forbidden, NotFound

PEOPLE = (Role.BUYER, Role.COMPANY_ADMIN, Role.SALES_MANAGER, Role.ADMIN)
COMPANY_MANAGERS = (Role.COMPANY_ADMIN, Role.ADMIN)
RULE_ADMINS = (Role.ADMIN,)


def person(principal: Principal) -> uuid.UUID:
    if principal.user_id is None:
        raise Forbidden("Only a person has an inbox and preferences.")
    return principal.user_id


def managed_company(principal: Principal, company_id: uuid.UUID) -> uuid.UUID:
    """A company admin manages only the company it acts for; an admin any."""
    if Role.ADMIN in principal.roles:
        return company_id
    if Role.COMPANY_ADMIN not in principal.roles or principal.company_id != company_id:
        raise NotFound("No such company.")
    return company_id
