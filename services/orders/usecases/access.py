"""Who may touch which cart, list, quote and order: the clients the caller reaches
(`shared.scope`: a buyer its company, a sales manager the clients assigned to it as accounts'
company.upserted says, heads of sales and admins any). Another's is 404, as if it did not
exist."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.store.catalog import CLIENTS
from services.orders.store.models import ApprovalRule, Cart, Order, RequisitionList
from services.orders.store.quote_models import Quote
from shared.auth import Principal, Role
from shared.problems import FieldError, NotFound, Unprocessable

CLIENT_PEOPLE = (Role.BUYER, Role.COMPANY_ADMIN)
OfClient = TypeVar("OfClient", Order, RequisitionList, Quote, ApprovalRule)
SHOPPERS = (Role.BUYER, Role.COMPANY_ADMIN, Role.SALES_MANAGER, Role.HEAD_OF_SALES, Role.ADMIN)
READERS = (*SHOPPERS, Role.SYSTEM)  # and services reading on their behalf


def acting_company(principal: Principal, company_id: uuid.UUID | None) -> uuid.UUID:
    """The client a cart or order is for: the buyer's own company; staff must name one."""
    if principal.is_staff:
        if company_id is None:
            raise Unprocessable(
                "Staff act on behalf of a client: name it.",
                errors=[FieldError(field="company_id", message="is required for staff")],
            )
        return company_id
    if principal.company_id is None:
        raise Unprocessable("Choose the company you act for first (switch company).")
    if company_id is not None and company_id != principal.company_id:
        raise NotFound("No such company.")
    return principal.company_id


async def ensure_client(session: AsyncSession, principal: Principal, company_id: uuid.UUID) -> None:
    """404 unless the caller may act for this client."""
    await CLIENTS.ensure(session, principal, company_id)


async def acting_client(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID | None
) -> uuid.UUID:
    """`acting_company`, and a sales manager acts only for its own clients."""
    chosen = acting_company(principal, company_id)
    await ensure_client(session, principal, chosen)
    return chosen


def in_scope(stmt: Any, company_column: Any, principal: Principal) -> Any:
    """A list narrowed to the clients the caller reaches, in the same query."""
    return CLIENTS.narrow(stmt, company_column, principal)


def narrowing(principal: Principal) -> Callable[[Any, Any], Any]:
    """`in_scope` for this caller, for a store query to apply to its statement."""
    return lambda stmt, company_column: in_scope(stmt, company_column, principal)


def listed_company(principal: Principal, company_id: uuid.UUID | None) -> uuid.UUID | None:
    """The one client a listing is for: the buyer's own company, or the one staff name;
    None: staff list every client they reach."""
    if principal.is_staff and company_id is None:
        return None
    return acting_company(principal, company_id)


async def own_cart(session: AsyncSession, principal: Principal, cart_id: uuid.UUID) -> Cart:
    """A cart is its owner's alone; another buyer's or company's is 404."""
    cart = await session.get(Cart, cart_id)
    if cart is None or cart.owner != str(principal.subject):
        raise NotFound("No such cart.")
    # The owner may since have lost the client (reassigned): the cart goes with the client.
    await ensure_client(session, principal, cart.company_id)
    return cart


async def reachable(
    session: AsyncSession,
    principal: Principal,
    kind: type[OfClient],
    row_id: Any,
    missing: str,
    *,
    lock: bool = False,
) -> OfClient:
    """A row of a client (its `company_id`) the caller reaches; else 404 (`missing`), as if
    it did not exist."""
    found = await session.get(kind, row_id, with_for_update=lock)
    if found is None:
        raise NotFound(missing)
    await ensure_client(session, principal, found.company_id)
    return found


async def company_list(
    session: AsyncSession, principal: Principal, list_id: uuid.UUID
) -> RequisitionList:
    return await reachable(
        session, principal, RequisitionList, list_id, "No such requisition list."
    )


async def visible_order(
    session: AsyncSession, principal: Principal, order_id: uuid.UUID, *, lock: bool = False
) -> Order:
    return await reachable(session, principal, Order, order_id, "No such order.", lock=lock)
