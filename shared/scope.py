"""Which clients a caller reaches: the one rule every service applies to a client's data.

A client's own people (buyer, company admin) reach the company they act for; a sales manager
the clients assigned to it; the head of sales, pricing managers, admins and services every
client. A client out of reach answers 404, exactly as an unknown id does, so the ids of other
clients leak nothing. Which endpoints a role may call at all is each endpoint's own
(`shared.auth.allow`); this says whose data it may touch there.

The assignment lives in accounts; every other service keeps a projection of its companies
with the assigned sales manager. `ClientScope` names the projection's id and manager columns
and checks one client against it (`ensure`) or narrows a query to reachable clients in the
same SQL (`narrow`, or `sql` for a query written as text). A write about a client also needs
the client to exist (`ensure_known`): a projection may not have heard of a company accounts
just created, so accounts is asked about the ones it does not know, never about the others.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role
from shared.problems import BadGateway, FieldError, NotFound
from shared.upstream import Upstreams

# Staff who reach every client; a sales manager holding none of these reaches only its own.
ALL_CLIENTS_ROLES = frozenset({Role.ADMIN, Role.HEAD_OF_SALES, Role.PRICING_MANAGER, Role.SYSTEM})
# Matches no assigned manager: a sales-manager credential that is not a person reaches nobody.
NO_MANAGER = uuid.UUID(int=0)


def assigned_manager(principal: Principal) -> uuid.UUID | None:
    """The sales manager whose assigned clients bound what this caller reaches: the caller
    itself when it is a sales manager without a wider role; None for everyone else (a client's
    people are bounded by the company they act for, the roles above reach every client)."""
    if Role.SALES_MANAGER not in principal.roles or principal.roles & ALL_CLIENTS_ROLES:
        return None
    return principal.user_id or NO_MANAGER


def ensure_own_company(principal: Principal, company_id: uuid.UUID) -> None:
    """A client's people (and any other non-staff caller) reach only the company they act for.
    Staff pass here; `ClientScope.ensure` bounds a sales manager."""
    if not principal.is_staff and principal.company_id != company_id:
        raise NotFound("No such client.")


async def accounts_company(upstreams: Upstreams, company_id: uuid.UUID) -> dict[str, Any] | None:
    """What accounts says of a company (its credit standing, with its currency), None when
    accounts has no such company."""
    response = await upstreams.call("accounts", "GET", f"/companies/{company_id}/credit")
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise BadGateway(f"accounts answered {response.status_code}: {response.text[:300]}")
    return response.json()


@dataclass(frozen=True)
class ClientScope:
    """A service's projection of clients: its company id column and the assigned sales
    manager column, e.g. `ClientScope(Client.company_id, Client.sales_manager_id)`."""

    id: Any
    manager: Any

    def _assigned_to(self, manager: uuid.UUID) -> Any:
        # correlate(None): also right when the narrowed query reads the projection itself.
        return select(self.id).where(self.manager == manager).correlate(None)

    async def ensure(
        self, session: AsyncSession, principal: Principal, company_id: uuid.UUID
    ) -> None:
        """404 unless the caller reaches this client."""
        ensure_own_company(principal, company_id)
        manager = assigned_manager(principal)
        if manager is None:
            return
        if await session.scalar(self._assigned_to(manager).where(self.id == company_id)) is None:
            raise NotFound("No such client.")

    async def ensure_known(
        self,
        session: AsyncSession,
        principal: Principal,
        upstreams: Upstreams,
        fields: Mapping[uuid.UUID, str],
    ) -> dict[uuid.UUID, dict[str, Any]]:
        """For a write about clients, `fields` naming where the request gave each: 404 naming
        the field of the first client the caller does not reach or accounts does not have, as
        the same problem either way. Returns what accounts said of the companies the projection
        has not heard of yet (their events are on the way), for a service that keeps rows
        against its projection to add them."""

        def refuse(company_id: uuid.UUID) -> NotFound:
            error = FieldError(field=fields[company_id], message="is not a client")
            return NotFound("No such client.", errors=[error])

        for company_id in fields:
            if not principal.is_staff and principal.company_id != company_id:
                raise refuse(company_id)
        manager = assigned_manager(principal)
        if manager is not None:  # reached means known: the projection holds the assignment
            reached = set(
                await session.scalars(self._assigned_to(manager).where(self.id.in_(fields)))
            )
            for company_id in fields:
                if company_id not in reached:
                    raise refuse(company_id)
            return {}
        known = set(await session.scalars(select(self.id).where(self.id.in_(fields))))
        heard_of = {}
        for company_id in fields:
            if company_id not in known:
                answer = await accounts_company(upstreams, company_id)
                if answer is None:
                    raise refuse(company_id)
                heard_of[company_id] = answer
        return heard_of

    def narrow(self, stmt: Any, company_column: Any, principal: Principal) -> Any:
        """`stmt` keeping only rows whose `company_column` is a client the caller reaches."""
        if not principal.is_staff:
            if principal.company_id is None:
                return stmt.where(false())
            return stmt.where(company_column == principal.company_id)
        manager = assigned_manager(principal)
        if manager is None:
            return stmt
        return stmt.where(company_column.in_(self._assigned_to(manager)))

    def sql(self, principal: Principal, column: str) -> str:
        """`narrow` for a query written as text (a COPY, say): a condition on `column`, `true`
        when the caller reaches every client. Only UUIDs go in, as literals."""
        if not principal.is_staff:
            if principal.company_id is None:
                return "false"
            return f"{column} = '{uuid.UUID(str(principal.company_id))}'"
        manager = assigned_manager(principal)
        if manager is None:
            return "true"
        return (
            f"{column} IN (SELECT {self.id.name} FROM {self.id.table.name} "
            f"WHERE {self.manager.name} = '{uuid.UUID(str(manager))}')"
        )
