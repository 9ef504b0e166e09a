"""Stock levels projected from catalog, and the requisition lists that hold a SKU."""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.store.models import (
    Product,
    RequisitionList,
    RequisitionListLine,
    StockLevel,
)
from shared.contracts.catalog import StockChangedV1
from shared.db import upsert_unless_newer


async def total_available(session: AsyncSession, sku: str) -> Decimal | None:
    """Available over every warehouse; None when no warehouse of the SKU was ever reported."""
    total, warehouses = (
        await session.execute(
            select(func.sum(StockLevel.available), func.count()).where(StockLevel.sku == sku)
        )
    ).one()
    return total if warehouses else None


async def set_level(session: AsyncSession, event: StockChangedV1) -> None:
    """The warehouse's level, unless a newer one arrived first."""
    values = {
        "sku": event.sku,
        "warehouse": event.warehouse,
        "available": event.available,
        "changed_at": event.changed_at,
    }
    await upsert_unless_newer(session, StockLevel, values, ("sku", "warehouse"), "changed_at")


async def lists_holding(
    session: AsyncSession, sku: str
) -> dict[uuid.UUID, list[tuple[uuid.UUID, str]]]:
    """company id -> its requisition lists (id, name) that hold the SKU, in one query."""
    rows = await session.execute(
        select(RequisitionList.company_id, RequisitionList.id, RequisitionList.name)
        .join(RequisitionListLine, RequisitionListLine.list_id == RequisitionList.id)
        .where(RequisitionListLine.sku == sku)
        .order_by(RequisitionList.company_id, RequisitionList.name)
    )
    found: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = defaultdict(list)
    for company_id, list_id, name in rows:
        found[company_id].append((list_id, name))
    return found


async def product_name(session: AsyncSession, sku: str) -> str:
    return await session.scalar(select(Product.name).where(Product.sku == sku)) or sku
