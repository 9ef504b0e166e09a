"""Shipments from ERP: an order leaves in parts; the order follows (shipped at the first part,
delivered when all has left and arrived, with OTIF over the whole)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.domain.lifecycle import moves, ships_with_first_part
from services.orders.domain.shipments import (
    ShipmentRefused,
    delivered_lines,
    left_to_ship,
    shipment_lines,
)
from services.orders.store import orders as store
from services.orders.store import shipments as shipment_store
from services.orders.store.models import Order, Shipment
from services.orders.usecases.erp import erp_actor
from services.orders.usecases.erp_batches import apply_rows
from shared.auth import Principal
from shared.batches import Batch, Mode
from shared.contracts.orders import OrderShipmentV1
from shared.contracts.orders import ShipmentLine as ShipmentLineEvent
from shared.events.outbox import record_event


async def apply_shipments(
    session: AsyncSession, principal: Principal, updates: Sequence[Any], mode: Mode
) -> Batch:
    """Each update (`order`, `shipment`, `status` shipped or delivered, `at`, `warehouse`,
    `kind`, `lines` as sku and quantity) records a part leaving or arriving."""
    actor = erp_actor(principal)

    async def apply(order: Order, update: Any) -> bool:
        return await _apply(session, order, update, actor)

    return await apply_rows(
        session, updates, apply, mode=mode, field_name="shipments", what="shipments"
    )


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


async def _ordered(session: AsyncSession, order: Order) -> dict[str, Decimal]:
    ordered: dict[str, Decimal] = defaultdict(Decimal)
    for line in await store.line_rows(session, order.id):
        ordered[line.sku] += line.quantity
    return ordered


async def _apply(session: AsyncSession, order: Order, update: Any, actor: str) -> bool:
    """One update; False when it repeats what is known. ShipmentRefused/TransitionRefused
    when it cannot be."""
    shipments = await shipment_store.of_order(session, order.id)
    lines = await shipment_store.lines_of(session, [s.id for s in shipments.values()])
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
        left = left_to_ship(
            await _ordered(session, order),
            [{k: v.quantity for k, v in lines[s.id].items()} for s in shipments.values()],
        )
        carried = shipment_lines(left, reported)
        if ships_with_first_part(order.status):
            await store.move(session, order, "shipped", actor, at=update.at)
        shipment = Shipment(
            order_id=order.id,
            number=update.shipment,
            warehouse=update.warehouse,
            kind=update.kind,
            status="shipped",
            shipped_at=update.at,
        )
        await shipment_store.add(session, shipment, carried)
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
    shipments = await shipment_store.of_order(session, order.id)
    lines = await shipment_store.lines_of(session, [s.id for s in shipments.values()])
    carried = [{k: v.quantity for k, v in lines[s.id].items()} for s in shipments.values()]
    if left_to_ship(await _ordered(session, order), carried) or any(
        s.status != "delivered" for s in shipments.values()
    ):
        return
    delivered: dict[str, Decimal] = defaultdict(Decimal)
    for per_sku in lines.values():
        for sku, line in per_sku.items():
            delivered[sku] += line.delivered_quantity or Decimal(0)
    last = max(s.delivered_at for s in shipments.values() if s.delivered_at is not None)
    await store.move(session, order, "delivered", actor, at=last, delivered=dict(delivered))
