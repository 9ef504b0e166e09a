"""What availability reads: the SKUs' supply terms, their stock per warehouse, the warehouses
lines name; one query each, whatever the number of lines."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.domain.supply import Supply, SupplyTerms
from services.catalog.store.models import Product, StockLevel, Warehouse


async def supply_terms(session: AsyncSession, skus: list[str]) -> dict[str, SupplyTerms]:
    rows = await session.execute(
        select(
            Product.sku,
            Product.unit,
            Product.unit_precision,
            Product.supply,
            Product.status,
            Product.lead_time_days,
            Product.min_batch,
            Product.batch_multiple,
        ).where(Product.sku.in_(sorted(set(skus))))
    )
    return {
        r.sku: SupplyTerms(
            unit=r.unit,
            precision=r.unit_precision,
            supply=Supply(r.supply),
            active=r.status == "active",
            lead_time_days=r.lead_time_days,
            min_batch=r.min_batch,
            batch_multiple=r.batch_multiple,
        )
        for r in rows
    }


async def available_by_warehouse(
    session: AsyncSession, skus: list[str]
) -> dict[tuple[str, str], Decimal]:
    """On hand less reserved per (sku, warehouse), as a reservation would read it (unlocked)."""
    rows = await session.execute(
        select(
            StockLevel.sku, StockLevel.warehouse, StockLevel.on_hand - StockLevel.reserved
        ).where(StockLevel.sku.in_(sorted(set(skus))))
    )
    return {(sku, warehouse): available for sku, warehouse, available in rows}


async def known_warehouses(session: AsyncSession, codes: set[str]) -> set[str]:
    found = await session.scalars(select(Warehouse.code).where(Warehouse.code.in_(sorted(codes))))
    return set(found)
