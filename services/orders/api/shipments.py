"""Shipments from ERP: an order leaves in parts; the order follows (shipped at the first part,
delivered when all has left and arrived, with OTIF over the whole)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.api.erp import (
    ERP,
    MAX_BATCH,
    DeliveredQuantity,
    Rejected,
    UpdatesResult,
    orders_by_reference,
)
from services.orders.domain.lifecycle import TransitionRefused, moves
from services.orders.domain.shipments import (
    ShipmentRefused,
    delivered_lines,
    left_to_ship,
    shipment_lines,
)
from services.orders.store import orders as store
from services.orders.store.models import Order, Shipment, ShipmentLine
from shared.auth import allow
from shared.contracts.orders import OrderShipmentV1
from shared.contracts.orders import ShipmentLine as ShipmentLineEvent
from shared.db import SessionDep
from shared.events.outbox import record_event
from shared.fields import Code, Reference, Timestamp
from shared.problems import FieldError, Unprocessable

router = APIRouter(prefix="/erp", tags=["ERP"])


class ShipmentUpdate(BaseModel):
    order: Reference = Field(description="Our number (SO-...) or ERP's own number")
    shipment: Reference = Field(description="ERP's shipment number")
    status: Literal["shipped", "delivered"]
    at: Timestamp
    warehouse: Code | None = None
    kind: Literal["stock", "made_to_order"] = "stock"
    lines: list[DeliveredQuantity] | None = Field(
        None,
        description="shipped: what the shipment carries (omitted: all left to ship); "
        "delivered: what arrived (omitted: all it carried)",
    )


class ShipmentUpdates(BaseModel):
    shipments: list[ShipmentUpdate] = Field(min_length=1, max_length=MAX_BATCH)
    mode: Literal["all_or_nothing", "skip_bad_rows"] = "all_or_nothing"


async def _carried(session: AsyncSession, order_id: uuid.UUID) -> dict[str, Shipment]:
    found = await session.scalars(select(Shipment).where(Shipment.order_id == order_id))
    return {s.number: s for s in found}


async def _lines(session: AsyncSession, shipment_ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    lines: dict[uuid.UUID, dict[str, ShipmentLine]] = defaultdict(dict)
    for line in await session.scalars(
        select(ShipmentLine).where(ShipmentLine.shipment_id.in_(shipment_ids))
    ):
        lines[line.shipment_id][line.sku] = line
    return lines


def _event(
    order: Order, shipment: Shipment, lines: list[ShipmentLineEvent], at: datetime
) -> OrderShipmentV1:
    return OrderShipmentV1(
        order_id=order.id,
        company_id=order.company_id,
        number=shipment.number,
        status=shipment.status,
        at=at,
        warehouse=shipment.warehouse,
        kind=shipment.kind,
        lines=lines,
    )


async def _apply(session: AsyncSession, order: Order, update: ShipmentUpdate, actor: str) -> bool:
    """One update; False when it repeats what is known. ShipmentRefused/TransitionRefused
    when it cannot be."""
    shipments = await _carried(session, order.id)
    lines = await _lines(session, [s.id for s in shipments.values()])
    reported = {x.sku: x.quantity for x in update.lines} if update.lines is not None else None
    shipment = shipments.get(update.shipment)
    # A shipment follows the order's rule: sent again (or late) it changes nothing; reported
    # with another time for a status it went through, it is refused.
    if shipment is not None and not moves(
        shipment.status,
        update.status,
        update.at,
        {"shipped": shipment.shipped_at, "delivered": shipment.delivered_at},
    ):
        return False
    if update.status == "shipped":
        ordered: dict[str, Decimal] = defaultdict(Decimal)
        for line in await store.line_rows(session, order.id):
            ordered[line.sku] += line.quantity
        left = left_to_ship(
            ordered, [{k: v.quantity for k, v in lines[s.id].items()} for s in shipments.values()]
        )
        carried = shipment_lines(left, reported)
        if order.status in ("placed", "confirmed"):
            await store.move(session, order, "shipped", actor, at=update.at)
        elif order.status != "shipped":
            raise TransitionRefused(f"a {order.status} order cannot ship")
        shipment = Shipment(
            order_id=order.id,
            number=update.shipment,
            warehouse=update.warehouse,
            kind=update.kind,
            status="shipped",
            shipped_at=update.at,
        )
        session.add(shipment)
        await session.flush()
        await session.execute(
            insert(ShipmentLine),
            [{"shipment_id": shipment.id, "sku": k, "quantity": q} for k, q in carried.items()],
        )
        record_event(
            session,
            _event(
                order,
                shipment,
                [ShipmentLineEvent(sku=k, quantity=q) for k, q in carried.items()],
                update.at,
            ),
        )
        return True
    if shipment is None:
        raise ShipmentRefused(f"no shipment {update.shipment} has left for this order")
    mine = lines[shipment.id]
    arrived = delivered_lines({k: v.quantity for k, v in mine.items()}, reported)
    for sku, quantity in arrived.items():
        mine[sku].delivered_quantity = quantity
    shipment.status, shipment.delivered_at = "delivered", update.at
    record_event(
        session,
        _event(
            order,
            shipment,
            [
                ShipmentLineEvent(sku=x.sku, quantity=x.quantity, delivered=x.delivered_quantity)
                for x in mine.values()
            ],
            update.at,
        ),
    )
    await session.flush()
    await _deliver_when_complete(session, order, actor)
    return True


async def _deliver_when_complete(session: AsyncSession, order: Order, actor: str) -> None:
    shipments = await _carried(session, order.id)
    lines = await _lines(session, [s.id for s in shipments.values()])
    ordered: dict[str, Decimal] = defaultdict(Decimal)
    for line in await store.line_rows(session, order.id):
        ordered[line.sku] += line.quantity
    carried = [{k: v.quantity for k, v in lines[s.id].items()} for s in shipments.values()]
    if left_to_ship(ordered, carried) or any(s.status != "delivered" for s in shipments.values()):
        return
    delivered: dict[str, Decimal] = defaultdict(Decimal)
    for per_sku in lines.values():
        for sku, line in per_sku.items():
            delivered[sku] += line.delivered_quantity or Decimal(0)
    last = max(s.delivered_at for s in shipments.values() if s.delivered_at is not None)
    await store.move(session, order, "delivered", actor, at=last, delivered=dict(delivered))


@router.post(
    "/shipments",
    summary="ERP reports shipments in bulk: a part of an order left (with its warehouse and "
    "lines) or arrived; the order is shipped at its first part and delivered when all arrived",
    responses={422: {"description": "all_or_nothing and some rows are bad: nothing changed"}},
)
async def post_shipments(
    body: ShipmentUpdates, session: SessionDep, principal: allow(*ERP)
) -> UpdatesResult:
    orders = await orders_by_reference(session, [u.order for u in body.shipments])
    actor = f"erp:{principal.subject}"
    applied = unchanged = 0
    rejected: list[Rejected] = []
    ordered = sorted(enumerate(body.shipments, 1), key=lambda x: (x[1].order, x[1].at))
    for row, update in ordered:
        order = orders.get(update.order)
        if order is None:
            rejected.append(Rejected(row=row, order=update.order, reason="unknown order"))
            continue
        try:
            async with session.begin_nested():
                changed = await _apply(session, order, update, actor)
        except (ShipmentRefused, TransitionRefused) as exc:
            rejected.append(Rejected(row=row, order=update.order, reason=str(exc)))
            continue
        applied += changed
        unchanged += not changed
    rejected.sort(key=lambda r: r.row)
    if rejected and body.mode == "all_or_nothing":
        raise Unprocessable(
            "Some shipments cannot be applied; nothing was changed.",
            errors=[
                FieldError(field="shipments", message=f"{r.order}: {r.reason}", row=r.row)
                for r in rejected
            ],
        )
    return UpdatesResult(applied=applied, unchanged=unchanged, rejected=rejected)
