"""Order history (portal, manager and offline ERP orders in one list), CSV export, cancel,
approval by the company or the credit manager, the company's approval rules, and reorder."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from services.orders.api.deps import CollaboratorsDep
from services.orders.api.schemas import (
    TOO_MANY_LINES,
    OrderRead,
    OrderStatus,
    OrderSummary,
    QuickOrderResult,
    added,
    order_read,
    summary,
)
from services.orders.store.order_queries import HistoryFilters
from services.orders.usecases import carts
from services.orders.usecases import orders as usecase
from services.orders.usecases.access import CLIENT_PEOPLE, READERS, SHOPPERS
from shared import csvsafe
from shared.auth import Role, allow
from shared.contracts.orders import LossReason
from shared.db import SessionDep
from shared.fields import BusinessDate, CurrencyCode, MinorUnits, Reference, Sku, multiline
from shared.pagination import Page, PageDep, PageParams, page_params

router = APIRouter(tags=["orders"])
pages = APIRouter(tags=["orders"])
EXPORT_BATCH = 2_000


async def order_filters(
    company_id: uuid.UUID | None = None,
    status: Annotated[list[OrderStatus] | None, Query()] = None,
    source: Annotated[str | None, Query(pattern="^(portal|manager|erp)$")] = None,
    placed_from: BusinessDate | None = None,
    placed_to: Annotated[BusinessDate | None, Query(description="Inclusive")] = None,
    sku: Annotated[Sku | None, Query(description="Orders that contain this SKU")] = None,
) -> HistoryFilters:
    return HistoryFilters(
        company_id=company_id,
        status=status,
        source=source,
        placed_from=placed_from,
        placed_to=placed_to,
        sku=sku,
    )


@router.get("/orders", summary="The company's order history, newest first, offline orders too")
async def list_orders(
    session: SessionDep,
    principal: allow(*READERS),
    filters: Annotated[HistoryFilters, Depends(order_filters)],
    page: Annotated[PageParams, Depends(page_params)],
) -> Page[OrderSummary]:
    rows, cursor = await usecase.list_orders(session, principal, filters, page)
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
    filters: Annotated[HistoryFilters, Depends(order_filters)],
) -> StreamingResponse:
    # The query is made (and the caller's scope checked) before the answer starts.
    lines = usecase.export_lines(request.app.state.sessionmaker, principal, filters, EXPORT_BATCH)
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
        async for order, line in lines:
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
    return order_read(await usecase.order_of(session, principal, order_id))


class CancelBody(BaseModel):
    reason: multiline(1000, min_length=1)
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
    return order_read(
        await usecase.cancel_order(session, principal, order_id, body.reason, body.reason_code)
    )


@router.post(
    "/orders/{order_id}/approve",
    summary="Let a waiting order go to ERP: the company admin approves its own rules' orders, "
    "a sales manager a credit hold",
    responses={409: {"description": "The order is not waiting for this approval"}},
)
async def approve_order(
    order_id: uuid.UUID,
    session: SessionDep,
    collaborators: CollaboratorsDep,
    principal: allow(Role.COMPANY_ADMIN, Role.SALES_MANAGER, Role.HEAD_OF_SALES, Role.ADMIN),
) -> OrderRead:
    return order_read(await usecase.approve_order(session, collaborators, principal, order_id))


class ApprovalRuleWrite(BaseModel):
    above_minor: MinorUnits | None = Field(None, description="Orders above this total")
    currency: CurrencyCode | None = None
    buyer: Reference | None = Field(None, description="Orders from this buyer (user id)")


class ApprovalRuleRead(ApprovalRuleWrite):
    id: uuid.UUID


@pages.get("/approval-rules", summary="The company's rules for orders that need approval")
async def list_rules(
    session: SessionDep,
    principal: allow(*CLIENT_PEOPLE, Role.ADMIN),
    page: PageDep,
    company_id: uuid.UUID | None = None,
) -> Page[ApprovalRuleRead]:
    rules = await usecase.approval_rules_of(session, principal, company_id, page)
    return Page.of(rules, lambda r: ApprovalRuleRead.model_validate(r, from_attributes=True))


@router.post("/approval-rules", status_code=201, summary="A company admin adds an approval rule")
async def add_rule(
    body: ApprovalRuleWrite,
    session: SessionDep,
    collaborators: CollaboratorsDep,
    principal: allow(Role.COMPANY_ADMIN, Role.ADMIN),
    company_id: uuid.UUID | None = None,
) -> ApprovalRuleRead:
    rule = await usecase.add_approval_rule(
        session, collaborators, principal, company_id, body.above_minor, body.currency, body.buyer
    )
    return ApprovalRuleRead.model_validate(rule, from_attributes=True)


@router.delete("/approval-rules/{rule_id}", status_code=204, summary="Remove an approval rule")
async def delete_rule(
    rule_id: uuid.UUID, session: SessionDep, principal: allow(Role.COMPANY_ADMIN, Role.ADMIN)
) -> Response:
    await usecase.remove_approval_rule(session, principal, rule_id)
    return Response(status_code=204)


class ReorderBody(BaseModel):
    cart_id: uuid.UUID


@router.post(
    "/orders/{order_id}/reorder",
    summary="Add a past order's lines to a cart; lines no longer orderable are reported",
    responses=TOO_MANY_LINES,
)
async def reorder(
    order_id: uuid.UUID, body: ReorderBody, session: SessionDep, principal: allow(*SHOPPERS)
) -> QuickOrderResult:
    return added(await carts.reorder(session, principal, order_id, body.cart_id))
