"""Order history (portal, manager and offline ERP orders in one list), CSV export, cancel,
approval by the company or the credit manager, the company's approval rules, and reorder."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from services.orders.api.access import (
    CLIENT_PEOPLE,
    SHOPPERS,
    acting_client,
    acting_company,
    ensure_client,
    in_scope,
    own_cart,
    visible_order,
)
from services.orders.api.carts import QuickOrderResult, add_wanted
from services.orders.api.checkout import credit_verdict
from services.orders.api.schemas import OrderRead, OrderSummary, read_order, summary
from services.orders.domain.lifecycle import TRANSITIONS, WAITING, TransitionRefused
from services.orders.domain.lines import WantedLine
from services.orders.store import orders as store
from services.orders.store.catalog import CLIENTS
from services.orders.store.models import ApprovalRule, Order, OrderLine
from shared import csvsafe
from shared.auth import Principal, Role, allow
from shared.contracts.orders import LossReason
from shared.db import SessionDep
from shared.fields import BusinessDate, CurrencyCode, MinorUnits, Reference, Sku, free_text
from shared.pagination import Page, PageParams, page_params, paginate
from shared.problems import Conflict, FieldError, Forbidden, NotFound, Unprocessable

router = APIRouter(tags=["orders"])
Status = Literal[tuple(TRANSITIONS)]  # type: ignore[valid-type]
READERS = (*SHOPPERS, Role.SYSTEM)
EXPORT_BATCH = 2_000


class OrderFilters(BaseModel):
    company_id: uuid.UUID | None = None
    status: list[str] | None = None
    source: str | None = None
    placed_from: date | None = None
    placed_to: date | None = None
    sku: str | None = None


async def order_filters(
    company_id: uuid.UUID | None = None,
    status: Annotated[list[Status] | None, Query()] = None,
    source: Annotated[str | None, Query(pattern="^(portal|manager|erp)$")] = None,
    placed_from: BusinessDate | None = None,
    placed_to: Annotated[BusinessDate | None, Query(description="Inclusive")] = None,
    sku: Annotated[Sku | None, Query(description="Orders that contain this SKU")] = None,
) -> OrderFilters:
    return OrderFilters(
        company_id=company_id,
        status=status,
        source=source,
        placed_from=placed_from,
        placed_to=placed_to,
        sku=sku,
    )


def _history_query(principal: Principal, f: OrderFilters) -> Any:
    stmt = in_scope(select(Order), Order.company_id, principal)
    if not principal.is_staff or f.company_id:
        stmt = stmt.where(Order.company_id == acting_company(principal, f.company_id))
    if f.status:
        stmt = stmt.where(Order.status.in_(f.status))
    if f.source:
        stmt = stmt.where(Order.source == f.source)
    if f.placed_from:
        stmt = stmt.where(Order.placed_at >= f.placed_from)
    if f.placed_to:
        stmt = stmt.where(Order.placed_at < f.placed_to + timedelta(days=1))
    if f.sku:
        stmt = stmt.where(
            select(OrderLine.order_id)
            .where(OrderLine.order_id == Order.id, OrderLine.sku == f.sku)
            .exists()
        )
    return stmt


@router.get("/orders", summary="The company's order history, newest first, offline orders too")
async def list_orders(
    session: SessionDep,
    principal: allow(*READERS),
    filters: Annotated[OrderFilters, Depends(order_filters)],
    page: Annotated[PageParams, Depends(page_params)],
) -> Page[OrderSummary]:
    rows, cursor = await paginate(
        session,
        _history_query(principal, filters),
        [Order.placed_at, Order.id],
        page,
        newest_first=True,
    )
    return Page(items=[summary(o) for o in rows], next_cursor=cursor)


@router.get(
    "/orders/export",
    summary="The filtered history as CSV, one row per order line (streamed)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_orders(
    request: Request,
    principal: allow(*READERS),
    filters: Annotated[OrderFilters, Depends(order_filters)],
) -> StreamingResponse:
    stmt = _history_query(principal, filters)
    sessionmaker = request.app.state.sessionmaker
    columns = [
        "number",
        "external_id",
        "source",
        "status",
        "placed_at",
        "currency",
        "order_total_minor",
        "line_no",
        "sku",
        "name",
        "quantity",
        "unit_price_minor",
        "price_rule",
        "delivered_quantity",
    ]

    async def rows() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        async with sessionmaker() as session:
            lines = (
                select(Order, OrderLine)
                .join(OrderLine, OrderLine.order_id == Order.id)
                .where(Order.id.in_(stmt.with_only_columns(Order.id)))
                .order_by(Order.placed_at.desc(), Order.id, OrderLine.line_no)
            )
            result = await session.stream(lines.execution_options(yield_per=EXPORT_BATCH))
            async for order, line in result:
                writer.writerow(
                    csvsafe.row(
                        [
                            order.number,
                            order.external_id or "",
                            order.source,
                            order.status,
                            order.placed_at.isoformat(),
                            order.currency,
                            order.total_minor,
                            line.line_no,
                            line.sku,
                            line.name or "",
                            line.quantity,
                            line.unit_price_minor,
                            line.price_rule,
                            "" if line.delivered_quantity is None else line.delivered_quantity,
                        ]
                    )
                )
                if buffer.tell() > 64 * 1024:
                    yield buffer.getvalue().encode()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue().encode()

    return StreamingResponse(
        rows(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="orders.csv"'},
    )


@router.get("/orders/{order_id}", summary="One order: lines with price snapshots, audit trail")
async def get_order(
    order_id: uuid.UUID, session: SessionDep, principal: allow(*READERS)
) -> OrderRead:
    return await read_order(session, await visible_order(session, principal, order_id))


class CancelBody(BaseModel):
    reason: free_text(1000, min_length=1)
    reason_code: LossReason | None = Field(
        None, description="What did not suit: product, service, sale, price, delivery, other"
    )


@router.post(
    "/orders/{order_id}/cancel",
    summary="Cancel while nothing has shipped; the reserved stock is given back",
    responses={409: {"description": "The order is past the point it can be cancelled"}},
)
async def cancel_order(
    order_id: uuid.UUID, body: CancelBody, session: SessionDep, principal: allow(*SHOPPERS)
) -> OrderRead:
    order = await visible_order(session, principal, order_id, lock=True)
    try:
        await store.move(
            session,
            order,
            "cancelled",
            str(principal.subject),
            note=body.reason,
            reason_code=body.reason_code,
        )
    except TransitionRefused as exc:
        raise Conflict(f"Cannot cancel: {exc}.") from exc
    return await read_order(session, order)


@router.post(
    "/orders/{order_id}/approve",
    summary="Let a waiting order go to ERP: the company admin approves its own rules' orders, "
    "a sales manager a credit hold",
    responses={409: {"description": "The order is not waiting for this approval"}},
)
async def approve_order(
    order_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: allow(Role.COMPANY_ADMIN, Role.SALES_MANAGER, Role.HEAD_OF_SALES, Role.ADMIN),
) -> OrderRead:
    order = await visible_order(session, principal, order_id, lock=True)
    if order.status not in WAITING:
        raise Conflict(f"The order is {order.status}; nothing waits for approval.")
    if order.status == "credit_hold" and not principal.is_staff:
        raise Forbidden("A credit hold is released by the client's sales manager.")
    actor = str(principal.subject)
    if order.status == "pending_approval":
        status, hold = await credit_verdict(
            request.app, order.company_id, order.total_minor, order.currency
        )
        await store.move(session, order, status, actor, note=hold or "approved by the company")
        order.hold_reason = hold
    else:
        await store.move(session, order, "placed", actor, note="credit hold released")
        order.hold_reason = None
    return await read_order(session, order)


class ApprovalRuleWrite(BaseModel):
    above_minor: MinorUnits | None = Field(None, description="Orders above this total")
    currency: CurrencyCode | None = None
    buyer: Reference | None = Field(None, description="Orders from this buyer (user id)")


class ApprovalRuleRead(ApprovalRuleWrite):
    id: uuid.UUID


@router.get("/approval-rules", summary="The company's rules for orders that need approval")
async def list_rules(
    session: SessionDep,
    principal: allow(*CLIENT_PEOPLE, Role.ADMIN),
    company_id: uuid.UUID | None = None,
) -> list[ApprovalRuleRead]:
    company = await acting_client(session, principal, company_id)
    rules = await session.scalars(select(ApprovalRule).where(ApprovalRule.company_id == company))
    return [ApprovalRuleRead.model_validate(r, from_attributes=True) for r in rules]


@router.post("/approval-rules", status_code=201, summary="A company admin adds an approval rule")
async def add_rule(
    body: ApprovalRuleWrite,
    request: Request,
    session: SessionDep,
    principal: allow(Role.COMPANY_ADMIN, Role.ADMIN),
    company_id: uuid.UUID | None = None,
) -> ApprovalRuleRead:
    if body.above_minor is None and body.buyer is None:
        raise Unprocessable(
            "A rule names an amount, a buyer, or both.",
            errors=[FieldError(field="above_minor", message="or buyer is required")],
        )
    if (body.above_minor is None) != (body.currency is None):
        raise Unprocessable(
            "An amount needs its currency.",
            errors=[FieldError(field="currency", message="is required with above_minor")],
        )
    company = await acting_client(session, principal, company_id)
    await CLIENTS.ensure_known(
        session, principal, request.app.state.upstreams, {company: "company_id"}
    )
    rule = ApprovalRule(company_id=company, **body.model_dump())
    session.add(rule)
    await session.flush()
    return ApprovalRuleRead.model_validate(rule, from_attributes=True)


@router.delete("/approval-rules/{rule_id}", status_code=204, summary="Remove an approval rule")
async def delete_rule(
    rule_id: uuid.UUID, session: SessionDep, principal: allow(Role.COMPANY_ADMIN, Role.ADMIN)
) -> Response:
    rule = await session.get(ApprovalRule, rule_id)
    if rule is None:
        raise NotFound("No such rule.")
    await ensure_client(session, principal, rule.company_id)
    await session.delete(rule)
    return Response(status_code=204)


class ReorderBody(BaseModel):
    cart_id: uuid.UUID


@router.post(
    "/orders/{order_id}/reorder",
    summary="Add a past order's lines to a cart; lines no longer orderable are reported",
)
async def reorder(
    order_id: uuid.UUID, body: ReorderBody, session: SessionDep, principal: allow(*SHOPPERS)
) -> QuickOrderResult:
    order = await visible_order(session, principal, order_id)
    cart = await own_cart(session, principal, body.cart_id)
    if cart.company_id != order.company_id:
        raise Unprocessable(
            "The cart is for another company.",
            errors=[FieldError(field="cart_id", message="is for another company")],
        )
    lines = await store.line_rows(session, order.id)
    return await add_wanted(
        session, cart.id, [WantedLine(x.line_no, x.sku, str(x.quantity)) for x in lines]
    )
