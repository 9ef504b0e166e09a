"""Reading the catalog: product search and one product."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from services.catalog.store.models import Product, StockLevel
from services.catalog.store.products import ProductFilter, filtered
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.pagination import Page, PageParams, page_params, paginate
from shared.problems import NotFound

router = APIRouter(tags=["products"])
READERS = (Role.BUYER, Role.COMPANY_ADMIN, Role.SALES_MANAGER, Role.ADMIN, Role.SYSTEM)


class ProductRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    name: str
    description: str | None
    brand: str | None
    category: str | None
    unit: str
    min_order_qty: Decimal
    order_multiple: Decimal
    status: str
    replacement_sku: str | None
    updated_at: datetime


@router.get("/products", summary="Search products by text, category, brand and status")
async def list_products(
    session: SessionDep,
    principal: allow(*READERS),
    page: Annotated[PageParams, Depends(page_params)],
    q: Annotated[str | None, Query(max_length=200, description="Part of SKU or name")] = None,
    category: Annotated[
        str | None, Query(max_length=100, description="A category code; its subcategories too")
    ] = None,
    brand: Annotated[str | None, Query(max_length=100)] = None,
    status: Literal["active", "discontinued"] | None = "active",
) -> Page[ProductRead]:
    stmt = filtered(
        select(Product), ProductFilter(q=q, category=category, brand=brand, status=status)
    )
    rows, cursor = await paginate(session, stmt, [Product.sku], page)
    return Page[ProductRead](
        items=[ProductRead.model_validate(r) for r in rows], next_cursor=cursor
    )


@router.get("/products/{sku}", summary="One product")
async def get_product(sku: str, session: SessionDep, principal: allow(*READERS)) -> ProductRead:
    product = await session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise NotFound(f"No product {sku}.")
    return ProductRead.model_validate(product)


class StockRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    warehouse: str
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    as_of: datetime


@router.get("/products/{sku}/stock", summary="Stock of one SKU per warehouse")
async def get_stock(sku: str, session: SessionDep, principal: allow(*READERS)) -> list[StockRead]:
    if await session.scalar(select(Product.id).where(Product.sku == sku)) is None:
        raise NotFound(f"No product {sku}.")
    levels = await session.scalars(
        select(StockLevel).where(StockLevel.sku == sku).order_by(StockLevel.warehouse)
    )
    return [
        StockRead(
            warehouse=level.warehouse,
            on_hand=level.on_hand,
            reserved=level.reserved,
            available=max(level.on_hand - level.reserved, Decimal(0)),
            as_of=level.as_of,
        )
        for level in levels
    ]
