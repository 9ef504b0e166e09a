"""Named carts, priced by pricing in one call, filled line by line, by quick order, from a
requisition list or a past order; requisition lists filled the same way."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.clients.catalog import convert_quantities
from services.orders.clients.pricing import PricedCart, price_cart
from services.orders.domain.lines import (
    MAX_LINES,
    LineProblem,
    OrderingRules,
    WantedLine,
    check_lines,
    needs_conversion,
)
from services.orders.store import carts as store
from services.orders.store import orders as order_store
from services.orders.store.catalog import CLIENTS, ordering_rules
from services.orders.store.models import Cart, RequisitionList
from services.orders.usecases.access import (
    acting_client,
    company_list,
    listed_company,
    narrowing,
    own_cart,
    visible_order,
)
from services.orders.usecases.context import Collaborators
from shared.auth import Principal
from shared.db import add_unique, release
from shared.pagination import PageParams, page_of
from shared.problems import FieldError, Unprocessable

Row = TypeVar("Row")  # a cart or a requisition list
CartRow = tuple[str, Decimal, str | None, str | None]  # sku, quantity, name, unit
# Reads the lines a request sends, called once the caller may touch the cart or list.
Reader = Callable[[], Awaitable[list[WantedLine]]]


@dataclass(frozen=True)
class Added:
    """Lines added or increased, and every line refused with its reason."""

    added: int
    problems: list[LineProblem]


@dataclass(frozen=True)
class PricedCartView:
    cart: Cart
    rows: list[CartRow]
    priced: PricedCart | None  # None: an empty cart, nothing to price


async def carts_of(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID | None, page: PageParams
) -> tuple[list[tuple[Cart, int]], str | None]:
    """The caller's carts (for the client it names; staff: every client it reaches) with
    their line counts."""
    carts = await store.carts_of(
        session,
        narrowing(principal),
        str(principal.subject),
        listed_company(principal, company_id),
    )
    carts, cursor = page_of(carts, lambda c: (c.name, str(c.id)), page)
    counts = await store.line_counts(session, [c.id for c in carts])
    return [(c, counts.get(c.id, 0)) for c in carts], cursor


async def create_cart(
    session: AsyncSession,
    collaborators: Collaborators,
    principal: Principal,
    company_id: uuid.UUID | None,
    name: str,
) -> Cart:
    return await _new_for_client(
        session,
        collaborators,
        principal,
        company_id,
        lambda company: Cart(company_id=company, owner=str(principal.subject), name=name),
        f"You already have a cart named {name!r}.",
    )


async def _new_for_client(
    session: AsyncSession,
    collaborators: Collaborators,
    principal: Principal,
    company_id: uuid.UUID | None,
    make: Callable[[uuid.UUID], Row],
    name_taken: str,
) -> Row:
    """A named cart or list for a client the caller reaches and accounts has; 409 when the
    name is taken."""
    company = await acting_client(session, principal, company_id)
    await CLIENTS.ensure_known(session, principal, collaborators.upstreams, {company: "company_id"})
    return await add_unique(session, make(company), name_taken)


async def priced_cart(
    session: AsyncSession, collaborators: Collaborators, principal: Principal, cart_id: uuid.UUID
) -> PricedCartView:
    """The cart's lines priced by pricing in one call, the connection given back first."""
    cart = await own_cart(session, principal, cart_id)
    rows = await store.cart_lines(session, cart.id)
    await release(session)
    if not rows:
        return PricedCartView(cart, [], None)
    priced = await price_cart(
        collaborators.upstreams, principal, cart.company_id, [(sku, q) for sku, q, _, _ in rows]
    )
    return PricedCartView(cart, rows, priced)


async def set_lines(
    session: AsyncSession,
    collaborators: Collaborators,
    principal: Principal,
    cart_id: uuid.UUID,
    wanted: list[WantedLine],
    add: bool,
) -> tuple[Cart, int]:
    """Every line orderable or nothing changes; the cart and its line count."""
    cart = await own_cart(session, principal, cart_id)
    rules = await ordering_rules(session, [x.sku for x in wanted])
    wanted, unit_problems = await in_base_units(collaborators, principal, wanted, rules)
    good, problems = check_lines(wanted, rules)
    refuse_problems(sorted(unit_problems + problems, key=lambda p: p.row))
    await store.put_lines(session, cart.id, good, add=add)
    counts = await store.line_counts(session, [cart.id])
    return cart, counts.get(cart.id, 0)


async def in_base_units(
    collaborators: Collaborators | None,
    principal: Principal | None,
    wanted: list[WantedLine],
    rules: dict[str, OrderingRules],
) -> tuple[list[WantedLine], list[LineProblem]]:
    """Lines ordered in packs, coils or pallets, converted to the base unit by catalog in one
    call; a line it refuses becomes a problem (unknown unit, not a whole pack...)."""
    convert = [
        i
        for i, w in enumerate(wanted)
        if needs_conversion(w, rules.get(w.sku)) and _positive(w.quantity)
    ]
    if not convert or collaborators is None:
        return wanted, []
    verdicts = await convert_quantities(
        collaborators.upstreams,
        principal,
        [(wanted[i].sku, wanted[i].unit or "", wanted[i].quantity or "") for i in convert],
    )
    converted, problems = list(wanted), []
    for i, verdict in zip(convert, verdicts, strict=True):
        line = wanted[i]
        if verdict["ok"]:
            converted[i] = replace(line, quantity=verdict["base_quantity"], unit=None)
        else:
            field = "unit" if verdict["problem"] == "unknown_unit" else "quantity"
            problems.append(LineProblem(line.row, line.sku, field, verdict["message"]))
    refused = {p.row for p in problems}
    return [w for w in converted if w.row not in refused], problems


def _positive(quantity: str | None) -> bool:
    try:
        return quantity is not None and Decimal(quantity) > 0
    except InvalidOperation:
        return False


async def add_wanted(
    session: AsyncSession,
    owner_id: uuid.UUID,
    wanted: list[WantedLine],
    *,
    requisition: bool = False,
    collaborators: Collaborators | None = None,
    principal: Principal | None = None,
) -> Added:
    """Adds the good lines (to a cart, or a requisition list); reports the rest per line.
    Units other than the base unit are converted only when `collaborators` are given."""
    if len(wanted) > MAX_LINES:
        raise Unprocessable(f"At most {MAX_LINES} lines at once; this has {len(wanted)}.")
    rules = await ordering_rules(session, [w.sku for w in wanted])
    wanted, unit_problems = await in_base_units(collaborators, principal, wanted, rules)
    good, problems = check_lines(wanted, rules)
    problems = sorted(unit_problems + problems, key=lambda p: p.row)
    await store.put_lines(session, owner_id, good, add=True, requisition=requisition)
    return Added(len(good), problems)


def refuse_problems(
    problems: list[LineProblem], detail: str = "Some lines cannot be ordered; nothing was changed."
) -> None:
    """Bad lines refuse the whole request: a 422 naming each line's field and row."""
    if problems:
        raise Unprocessable(
            detail,
            errors=[
                FieldError(field=f"lines.{p.field}", message=f"{p.sku}: {p.reason}", row=p.row)
                for p in problems
            ],
        )


async def quick_order(
    session: AsyncSession,
    collaborators: Collaborators,
    principal: Principal,
    cart_id: uuid.UUID,
    lines: Reader,
) -> Added:
    """Lines read (`lines`) once the caller may touch the cart, the good ones added."""
    cart = await own_cart(session, principal, cart_id)
    return await add_wanted(
        session, cart.id, await lines(), collaborators=collaborators, principal=principal
    )


def _same_company(cart: Cart, company_id: uuid.UUID) -> None:
    if cart.company_id != company_id:
        raise Unprocessable(
            "The cart is for another company.",
            errors=[FieldError(field="cart_id", message="is for another company")],
        )


async def reorder(
    session: AsyncSession, principal: Principal, order_id: uuid.UUID, cart_id: uuid.UUID
) -> Added:
    """A past order's lines added to a cart of the same company."""
    order = await visible_order(session, principal, order_id)
    cart = await own_cart(session, principal, cart_id)
    _same_company(cart, order.company_id)
    lines = await order_store.line_rows(session, order.id)
    return await add_wanted(
        session, cart.id, [WantedLine(x.line_no, x.sku, str(x.quantity)) for x in lines]
    )


async def create_list(
    session: AsyncSession,
    collaborators: Collaborators,
    principal: Principal,
    company_id: uuid.UUID | None,
    name: str,
) -> RequisitionList:
    return await _new_for_client(
        session,
        collaborators,
        principal,
        company_id,
        lambda company: RequisitionList(
            company_id=company, name=name, created_by=str(principal.subject)
        ),
        f"The company already has a list named {name!r}.",
    )


async def add_list_lines(
    session: AsyncSession,
    collaborators: Collaborators,
    principal: Principal,
    list_id: uuid.UUID,
    lines: Reader,
) -> Added:
    found = await company_list(session, principal, list_id)
    return await add_wanted(
        session,
        found.id,
        await lines(),
        requisition=True,
        collaborators=collaborators,
        principal=principal,
    )


async def list_to_cart(
    session: AsyncSession, principal: Principal, list_id: uuid.UUID, cart_id: uuid.UUID
) -> Added:
    """The whole list added to a cart of the same company."""
    found, lines = await requisition_list(session, principal, list_id)
    cart = await own_cart(session, principal, cart_id)
    _same_company(cart, found.company_id)
    wanted = [WantedLine(i, sku, str(quantity)) for i, (sku, quantity) in enumerate(lines, 1)]
    return await add_wanted(session, cart.id, wanted)


async def lists_of(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID | None, page: PageParams
) -> tuple[list[tuple[RequisitionList, list[tuple[str, Decimal]]]], str | None]:
    """The company's saved lists, each with its lines (sku, quantity)."""
    company = await acting_client(session, principal, company_id)
    found = await store.lists_of(session, company)
    lists, cursor = page_of(found, lambda x: (x.name, str(x.id)), page)
    return await with_lines(session, lists), cursor


async def with_lines(
    session: AsyncSession, lists: list[RequisitionList]
) -> list[tuple[RequisitionList, list[tuple[str, Decimal]]]]:
    lines = await store.list_lines(session, [x.id for x in lists])
    return [(x, lines[x.id]) for x in lists]


async def requisition_list(
    session: AsyncSession, principal: Principal, list_id: uuid.UUID
) -> tuple[RequisitionList, list[tuple[str, Decimal]]]:
    found = await company_list(session, principal, list_id)
    return (await with_lines(session, [found]))[0]


async def drop_cart(session: AsyncSession, principal: Principal, cart_id: uuid.UUID) -> None:
    await session.delete(await own_cart(session, principal, cart_id))


async def remove_lines(
    session: AsyncSession, principal: Principal, cart_id: uuid.UUID, skus: list[str]
) -> None:
    cart = await own_cart(session, principal, cart_id)
    await store.remove_lines(session, cart.id, skus)


async def empty_cart(session: AsyncSession, principal: Principal, cart_id: uuid.UUID) -> None:
    cart = await own_cart(session, principal, cart_id)
    await store.empty(session, cart.id)


async def drop_list(session: AsyncSession, principal: Principal, list_id: uuid.UUID) -> None:
    await session.delete(await company_list(session, principal, list_id))
