"""An order as it is read, and what people do with it after checkout: cancel, approve (the
company's rule or a credit hold), the company's approval rules."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.orders.domain.lifecycle import WAITING, TransitionRefused
from services.orders.store import checkouts
from services.orders.store import order_queries as queries
from services.orders.store import orders as store
from services.orders.store import shipments as shipment_store
from services.orders.store.catalog import CLIENTS
from services.orders.store.models import ApprovalRule, Order, OrderLine, Shipment, ShipmentLine
from services.orders.usecases.access import (
    acting_client,
    listed_company,
    narrowing,
    reachable,
    visible_order,
)
from services.orders.usecases.checkout_decision import credit_verdict
from services.orders.usecases.context import Collaborators
from shared.auth import Principal
from shared.pagination import PageParams, page_of, paginate
from shared.problems import Conflict, FieldError, Forbidden, Unprocessable


@dataclass(frozen=True)
class OrderView:
    """An order with its lines (rows), shipments and audit trail (rows or plain dicts)."""

    order: Order
    lines: Sequence[Any]
    shipments: list[tuple[Shipment, list[ShipmentLine]]]
    history: Sequence[Any]


async def view_order(session: AsyncSession, order: Order) -> OrderView:
    return OrderView(
        order,
        await store.line_rows(session, order.id),
        await shipment_store.for_reading(session, order.id),
        await queries.history_of(session, order.id),
    )


async def cancel_order(
    session: AsyncSession,
    principal: Principal,
    order_id: uuid.UUID,
    reason: str,
    reason_code: str | None,
) -> OrderView:
    order = await visible_order(session, principal, order_id, lock=True)
    try:
        await store.move(
            session,
            order,
            "cancelled",
            str(principal.subject),
            note=reason,
            reason_code=reason_code,
        )
    except TransitionRefused as exc:
        raise Conflict(f"Cannot cancel: {exc}.") from exc
    return await view_order(session, order)


async def approve_order(
    session: AsyncSession, collaborators: Collaborators, principal: Principal, order_id: uuid.UUID
) -> OrderView:
    """The company admin lets its own rules' order go (credit is checked then); the client's
    sales manager releases a credit hold."""
    order = await visible_order(session, principal, order_id, lock=True)
    if order.status not in WAITING:
        raise Conflict(f"The order is {order.status}; nothing waits for approval.")
    if order.status == "credit_hold" and not principal.is_staff:
        raise Forbidden("A credit hold is released by the client's sales manager.")
    actor = str(principal.subject)
    if order.status == "pending_approval":
        status, hold = await credit_verdict(
            collaborators, order.company_id, order.total_minor, order.currency
        )
        await store.move(session, order, status, actor, note=hold or "approved by the company")
        order.hold_reason = hold
    else:
        await store.move(session, order, "placed", actor, note="credit hold released")
        order.hold_reason = None
    return await view_order(session, order)


async def add_approval_rule(
    session: AsyncSession,
    collaborators: Collaborators,
    principal: Principal,
    company_id: uuid.UUID | None,
    above_minor: int | None,
    currency: str | None,
    buyer: str | None,
) -> ApprovalRule:
    if above_minor is None and buyer is None:
        raise Unprocessable(
            "A rule names an amount, a buyer, or both.",
            errors=[FieldError(field="above_minor", message="or buyer is required")],
        )
    if (above_minor is None) != (currency is None):
        raise Unprocessable(
            "An amount needs its currency.",
            errors=[FieldError(field="currency", message="is required with above_minor")],
        )
    company = await acting_client(session, principal, company_id)
    await CLIENTS.ensure_known(session, principal, collaborators.upstreams, {company: "company_id"})
    rule = ApprovalRule(company_id=company, above_minor=above_minor, currency=currency, buyer=buyer)
    session.add(rule)
    await session.flush()
    return rule


async def remove_approval_rule(
    session: AsyncSession, principal: Principal, rule_id: uuid.UUID
) -> None:
    await session.delete(
        await reachable(session, principal, ApprovalRule, rule_id, "No such rule.")
    )


def history(principal: Principal, filters: queries.HistoryFilters) -> Any:
    """The order history query for the caller: its clients, or the one it names."""
    company = listed_company(principal, filters.company_id)
    return queries.history(narrowing(principal), company, filters)


async def list_orders(
    session: AsyncSession, principal: Principal, filters: queries.HistoryFilters, page: PageParams
) -> tuple[list[Order], str | None]:
    return await paginate(
        session, history(principal, filters), [Order.placed_at, Order.id], page, newest_first=True
    )


def export_lines(
    sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal,
    filters: queries.HistoryFilters,
    batch: int,
) -> AsyncIterator[tuple[Order, OrderLine]]:
    """Every line of the filtered history, streamed in a session of its own (the answer is
    streamed after the request's session is gone). The caller's scope is checked now."""
    stmt = history(principal, filters)

    async def lines() -> AsyncIterator[tuple[Order, OrderLine]]:
        async with sessionmaker() as session:
            async for pair in queries.stream_lines(session, stmt, batch):
                yield pair

    return lines()


async def to_fulfil(
    session: AsyncSession, status: str, page: PageParams
) -> tuple[list[Order], str | None]:
    """What ERP imports, oldest first."""
    return await paginate(session, queries.to_fulfil(status), [Order.placed_at, Order.id], page)


async def approval_rules_of(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID | None, page: PageParams
) -> tuple[list[ApprovalRule], str | None]:
    company = await acting_client(session, principal, company_id)
    return page_of(await checkouts.rules_of(session, company), lambda r: (str(r.id),), page)


async def order_of(session: AsyncSession, principal: Principal, order_id: uuid.UUID) -> OrderView:
    return await view_order(session, await visible_order(session, principal, order_id))
