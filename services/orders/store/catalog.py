"""Projections of other services' facts that orders keeps to answer without asking them."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.domain.lines import OrderingRules
from services.orders.store.models import Company, Product
from shared.contracts.accounts import CompanyUpsertedV1
from shared.contracts.catalog import ProductUpsertedV1
from shared.db import upsert_unless_newer
from shared.scope import ClientScope

# What orders keeps of a product and of a company, under the events' own names.
PRODUCT_FIELDS = {
    "sku",
    "name",
    "unit",
    "min_order_qty",
    "order_multiple",
    "sellable",
    "replacement_sku",
    "cost_minor",
    "cost_currency",
    "updated_at",
}
COMPANY_FIELDS = {
    "external_id",
    "legal_name",
    "currency",
    "sales_manager_id",
    "preferred_warehouse",
    "updated_at",
}


async def upsert_product(session: AsyncSession, event: ProductUpsertedV1) -> None:
    values = event.model_dump(include=PRODUCT_FIELDS)
    await upsert_unless_newer(session, Product, values, ("sku",))


async def upsert_company(session: AsyncSession, event: CompanyUpsertedV1) -> None:
    values = {"id": event.company_id, **event.model_dump(include=COMPANY_FIELDS)}
    await upsert_unless_newer(session, Company, values, ("id",))


async def preferred_warehouse(session: AsyncSession, company_id: uuid.UUID) -> str | None:
    """The warehouse the client's orders take stock from first, if accounts named one."""
    return await session.scalar(select(Company.preferred_warehouse).where(Company.id == company_id))


# The clients orders knows and their assigned sales managers: what `shared.scope` checks.
CLIENTS = ClientScope(Company.id, Company.sales_manager_id)


async def ordering_rules(session: AsyncSession, skus: list[str]) -> dict[str, OrderingRules]:
    """The rules of every SKU named, in one query."""
    rows = await session.execute(
        select(
            Product.sku,
            Product.unit,
            Product.min_order_qty,
            Product.order_multiple,
            Product.sellable,
            Product.replacement_sku,
        ).where(Product.sku.in_(set(skus)))
    )
    return {row.sku: OrderingRules(*row[1:]) for row in rows}


async def unit_costs(session: AsyncSession, skus: list[str], currency: str) -> dict[str, int]:
    """Cost per base unit of the SKUs whose cost ERP gives in `currency` (for the snapshot)."""
    rows = await session.execute(
        select(Product.sku, Product.cost_minor).where(
            Product.sku.in_(set(skus)),
            Product.cost_currency == currency,
            Product.cost_minor.is_not(None),
        )
    )
    return {sku: cost for sku, cost in rows}


async def companies_by_external_id(
    session: AsyncSession, external_ids: set[str]
) -> dict[str, uuid.UUID]:
    """The companies orders knows, by their ERP id."""
    found = await session.scalars(select(Company).where(Company.external_id.in_(external_ids)))
    return {c.external_id: c.id for c in found}
