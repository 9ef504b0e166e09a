"""ERP's side of orders: it pulls the orders to fulfil, posts status updates in bulk, and
sends the offline orders (phone, a manager) so the portal shows one history."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from services.orders.api.schemas import (
    BATCH_REFUSED,
    ERP,
    MAX_BATCH,
    DeliveredQuantity,
    OrderSummary,
    UpdatesResult,
    summary,
    updates_result,
)
from services.orders.usecases import erp as usecase
from services.orders.usecases import orders
from shared.apiconventions import examples
from shared.auth import allow
from shared.batches import Mode
from shared.db import SessionDep
from shared.fields import (
    BusinessDate,
    CurrencyCode,
    MinorUnits,
    PastTimestamp,
    Quantity,
    Reference,
    Sku,
    Timestamp,
    line,
    multiline,
)
from shared.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/erp", tags=["ERP"])


@router.get("/orders", summary="Orders to fulfil (placed, oldest first): what ERP imports")
async def orders_to_fulfil(
    session: SessionDep,
    principal: allow(*ERP),
    page: Annotated[PageParams, Depends(page_params)],
    status: Literal["placed", "confirmed", "shipped"] = "placed",
) -> Page[OrderSummary]:
    rows, cursor = await orders.to_fulfil(session, status, page)
    return Page(items=[summary(o) for o in rows], next_cursor=cursor)


class StatusUpdate(BaseModel):
    order: Reference = Field(description="Our number (SO-...) or ERP's own number")
    status: Literal["confirmed", "shipped", "delivered", "cancelled"]
    at: Timestamp
    promised_from: BusinessDate | None = None
    promised_to: BusinessDate | None = None
    delay_reason: multiline(500) | None = Field(
        None,
        description="Why the promised date moved later (told to the buyer and the manager in "
        "order.delayed); ignored when it did not",
    )
    delivered: list[DeliveredQuantity] | None = Field(
        None, description="Delivered quantities per SKU; omitted: everything ordered"
    )
    note: multiline(1000) | None = None


@examples(
    {
        "updates": [
            {
                "order": "SO-00000123",
                "status": "confirmed",
                "at": "2026-12-06T11:00:00Z",
                "promised_from": "2026-12-08",
                "promised_to": "2026-12-09",
            },
            {
                "order": "SO-00000118",
                "status": "delivered",
                "at": "2026-12-06T14:30:00Z",
                "delivered": [{"sku": "CE-200", "quantity": "48"}],
                "note": "2 bags damaged, refused at the gate",
            },
        ],
        "mode": "skip_bad_rows",
    }
)
class StatusUpdates(BaseModel):
    updates: list[StatusUpdate] = Field(min_length=1, max_length=MAX_BATCH)
    mode: Mode = "all_or_nothing"


@router.post(
    "/order-updates",
    summary="ERP posts status changes in bulk: confirmed (with the promised window), shipped, "
    "delivered (with quantities), cancelled; the current status again with a later window "
    "tells a delay",
    responses=BATCH_REFUSED,
)
async def post_status_updates(
    body: StatusUpdates, session: SessionDep, principal: allow(*ERP)
) -> UpdatesResult:
    batch = await usecase.apply_status_updates(session, principal, body.updates, body.mode)
    return updates_result(batch)


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
    created = await usecase.import_offline_orders(session, principal, body.orders)
    return ImportResult(created=created, already_known=len(body.orders) - created)
