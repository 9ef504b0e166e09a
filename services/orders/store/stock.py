"""Stock levels projected from catalog, and the requisition lists that hold a SKU."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.store.models import (
    Product,
    RequisitionList,
    RequisitionListLine,
)


async def lists_holding(
    session: AsyncSession, skus: Iterable[str]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, str, str]]]:
    """company id -> (list id, list name, SKU) of its requisition lists holding the SKUs."""
    rows = await session.execute(
        select(
            RequisitionList.company_id,
            RequisitionList.id,
            RequisitionList.name,
            RequisitionListLine.sku,
        )
        .join(RequisitionListLine, RequisitionListLine.list_id == RequisitionList.id)
        .where(RequisitionListLine.sku.in_(sorted(set(skus))))
        .order_by(RequisitionList.company_id, RequisitionList.name, RequisitionListLine.sku)
    )
    found: dict[uuid.UUID, list[tuple[uuid.UUID, str, str]]] = defaultdict(list)
    for company_id, list_id, name, sku in rows:
        found[company_id].append((list_id, name, sku))
    return found


async def product_names(session: AsyncSession, skus: Iterable[str]) -> dict[str, str]:
    rows = await session.execute(
        select(Product.sku, Product.name).where(Product.sku.in_(sorted(set(skus))))
    )
    return {sku: name for sku, name in rows}
