"""ERP's side of orders: it pulls the orders to fulfil, posts status updates in bulk, and
sends the offline orders (phone, a manager) so the portal shows one history."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.api.schemas import OrderSummary, summary
from services.orders.domain.lifecycle import TransitionRefused
from services.orders.domain.lines import line_total
from services.orders.store import orders as store
from services.orders.store.catalog import unit_costs
from services.orders.store.models import Company, Order
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.fields import (
    BusinessDate,
    CurrencyCode,
    MinorUnits,
    PastTimestamp,
    Quantity,
    QuantityOrZero,
    Reference,
    Sku,
    Timestamp,
    free_text,
    line,
    refuse_oversized,
)
from shared.pagination import Page, PageParams, page_params, paginate
from shared.problems import FieldError, RowNumber, Unprocessable

router = APIRouter(prefix="/erp", tags=["ERP"])
ERP = (Role.INTEGRATOR, Role.ADMIN)
MAX_BATCH = 5_000


@router.get("/orders", summary="Orders to fulfil (placed, oldest first): what ERP imports")
async def orders_to_fulfil(
    session: SessionDep,
    principal: allow(*ERP),
    page: Annotated[PageParams, Depends(page_params)],
    status: Literal["placed", "confirmed", "shipped"] = "placed",
) -> Page[OrderSummary]:
    stmt = select(Order).where(Order.status == status, Order.source != "erp")
    rows, cursor = await paginate(session, stmt, [Order.placed_at, Order.id], page)
    return Page(items=[summary(o) for o in rows], next_cursor=cursor)


class DeliveredQuantity(BaseModel):
    sku: Sku
    quantity: QuantityOrZero


class StatusUpdate(BaseModel):
    order: Reference = Field(description="Our number (SO-...) or ERP's own number")
    status: Literal["confirmed", "shipped", "delivered", "cancelled"]
    at: Timestamp
    promised_from: BusinessDate | None = None
    promised_to: BusinessDate | None = None
    delivered: list[DeliveredQuantity] | None = Field(
        None, description="Delivered quantities per SKU; omitted: everything ordered"
    )
    note: free_text(1000) | None = None


class StatusUpdates(BaseModel):
    updates: list[StatusUpdate] = Field(min_length=1, max_length=MAX_BATCH)
    mode: Literal["all_or_nothing", "skip_bad_rows"] = "all_or_nothing"


class Rejected(BaseModel):
    row: RowNumber
    order: str
    reason: str


class UpdatesResult(BaseModel):
    applied: int
    unchanged: int = Field(
        description="Updates that changed nothing: the status the order is in, one it went "
        "through at that same time (a batch sent again), or a step it skipped reported late"
    )
    rejected: list[Rejected]


async def orders_by_reference(session: AsyncSession, references: list[str]) -> dict[str, Order]:
    """Both our numbers and ERP's, in one query, locked in a fixed order (no deadlocks)."""
    found = await session.scalars(
        select(Order)
        .where(or_(Order.number.in_(references), Order.external_id.in_(references)))
        .order_by(Order.id)
        .with_for_update()
    )
    by_reference: dict[str, Order] = {}
    for order in found:
        by_reference[order.number] = order
        if order.external_id:
            by_reference[order.external_id] = order
    return by_reference


@router.post(
    "/order-updates",
    summary="ERP posts status changes in bulk: confirmed (with the promised window), shipped, "
    "delivered (with quantities), cancelled",
    responses={422: {"description": "all_or_nothing and some rows are bad: nothing changed"}},
)
async def post_status_updates(
    body: StatusUpdates, session: SessionDep, principal: allow(*ERP)
) -> UpdatesResult:
    orders = await orders_by_reference(session, [u.order for u in body.updates])
    actor = f"erp:{principal.subject}"
    applied = unchanged = 0
    rejected: list[Rejected] = []
    ordered = sorted(enumerate(body.updates, 1), key=lambda x: (x[1].order, x[1].at))
    for row, update in ordered:  # per order in time order, so a batch may carry a whole journey
        order = orders.get(update.order)
        if order is None:
            rejected.append(Rejected(row=row, order=update.order, reason="unknown order"))
            continue
        try:
            async with session.begin_nested():
                moved = await store.move(
                    session,
                    order,
                    update.status,
                    actor,
                    at=update.at,
                    note=update.note,
                    promised=(update.promised_from, update.promised_to),
                    delivered={d.sku: d.quantity for d in update.delivered}
                    if update.delivered is not None
                    else None,
                )
        except TransitionRefused as exc:
            rejected.append(Rejected(row=row, order=update.order, reason=str(exc)))
            continue
        applied += moved
        unchanged += not moved
    if rejected and body.mode == "all_or_nothing":
        raise Unprocessable(
            "Some updates cannot be applied; nothing was changed.",
            errors=[
                FieldError(field="updates", message=f"{r.order}: {r.reason}", row=r.row)
                for r in sorted(rejected, key=lambda r: r.row)
            ],
        )
    return UpdatesResult(
        applied=applied, unchanged=unchanged, rejected=sorted(rejected, key=lambda r: r.row)
    )


class OfflineLine(BaseModel):
    sku: Sku
    name: line(300) | None = None
    quantity: Quantity
    unit_price_minor: MinorUnits


class OfflineOrder(BaseModel):
    external_id: Reference = Field(description="ERP's order number")
    client: Reference = Field(description="The client's ERP id")
    placed_at: PastTimestamp
    currency: CurrencyCode
    status: Literal["placed", "confirmed", "shipped", "delivered", "cancelled"] = "placed"
    lines: list[OfflineLine] = Field(min_length=1, max_length=MAX_BATCH)


class OfflineOrders(BaseModel):
    orders: list[OfflineOrder] = Field(min_length=1, max_length=1_000)


class ImportResult(BaseModel):
    created: int
    already_known: int


@router.post(
    "/offline-orders",
    summary="Orders taken by phone or by a manager in ERP, so the history and analytics see "
    "the whole client; idempotent by ERP's number, all or nothing",
)
async def import_offline_orders(
    body: OfflineOrders, session: SessionDep, principal: allow(*ERP)
) -> ImportResult:
    clients = {
        c.external_id: c.id
        for c in await session.scalars(
            select(Company).where(Company.external_id.in_({o.client for o in body.orders}))
        )
    }
    errors = [
        FieldError(field="client", message=f"unknown client {o.client}", row=i)
        for i, o in enumerate(body.orders, 1)
        if o.client not in clients
    ]
    if errors:
        raise Unprocessable("Unknown clients; nothing was imported.", errors=errors)
    known = set(
        await session.scalars(
            select(Order.external_id).where(
                Order.external_id.in_([o.external_id for o in body.orders])
            )
        )
    )
    actor = f"erp:{principal.subject}"
    created = 0
    costs = {
        currency: await unit_costs(session, [x.sku for o in body.orders for x in o.lines], currency)
        for currency in {o.currency for o in body.orders}
    }
    for row, offline in enumerate(body.orders, 1):
        total = sum(line_total(x.unit_price_minor, x.quantity) for x in offline.lines)
        refuse_oversized(total, "lines", row)
    for offline in body.orders:
        if offline.external_id in known:
            continue
        known.add(offline.external_id)
        order = Order(
            id=uuid.uuid4(),
            number=await store.next_number(session),
            external_id=offline.external_id,
            company_id=clients[offline.client],
            source="erp",
            placed_by=actor,
            status="placed",
            currency=offline.currency,
            total_minor=sum(line_total(x.unit_price_minor, x.quantity) for x in offline.lines),
            placed_at=offline.placed_at,
        )
        session.add(order)
        await session.flush()
        await store.add_lines(
            session,
            order.id,
            [
                {
                    "sku": x.sku,
                    "name": x.name,
                    "quantity": x.quantity,
                    "unit_price_minor": x.unit_price_minor,
                    "list_price_minor": None,
                    "price_rule": "erp",
                    "priced_on": offline.placed_at.date(),
                    "unit_cost_minor": costs[offline.currency].get(x.sku),
                }
                for x in offline.lines
            ],
        )
        await store.open_order(session, order, actor, "offline order from ERP")
        if offline.status != "placed":
            await store.move(session, order, offline.status, actor, at=offline.placed_at)
        created += 1
    return ImportResult(created=created, already_known=len(body.orders) - created)
