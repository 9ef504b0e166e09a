"""Shipments: the parts an order left in, with their lines."""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.store.models import Shipment, ShipmentLine


async def of_order(session: AsyncSession, order_id: uuid.UUID) -> dict[str, Shipment]:
    """The order's shipments by their number."""
    found = await session.scalars(select(Shipment).where(Shipment.order_id == order_id))
    return {s.number: s for s in found}


async def lines_of(
    session: AsyncSession, shipment_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, ShipmentLine]]:
    """Each shipment's lines by SKU."""
    lines: dict[uuid.UUID, dict[str, ShipmentLine]] = defaultdict(dict)
    for line in await session.scalars(
        select(ShipmentLine).where(ShipmentLine.shipment_id.in_(shipment_ids))
    ):
        lines[line.shipment_id][line.sku] = line
    return lines


async def add(session: AsyncSession, shipment: Shipment, carried: dict[str, Decimal]) -> None:
    """A shipment that left, with what it carries."""
    session.add(shipment)
    await session.flush()
    await session.execute(
        insert(ShipmentLine),
        [{"shipment_id": shipment.id, "sku": k, "quantity": q} for k, q in carried.items()],
    )


async def for_reading(
    session: AsyncSession, order_id: uuid.UUID
) -> list[tuple[Shipment, list[ShipmentLine]]]:
    """The order's shipments with their lines, in the order they left."""
    rows = (
        await session.execute(
            select(Shipment, ShipmentLine)
            .join(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)
            .where(Shipment.order_id == order_id)
            .order_by(Shipment.shipped_at, Shipment.number, ShipmentLine.sku)
        )
    ).all()
    found: dict[uuid.UUID, tuple[Shipment, list[ShipmentLine]]] = {}
    for shipment, line in rows:
        found.setdefault(shipment.id, (shipment, []))[1].append(line)
    return list(found.values())
