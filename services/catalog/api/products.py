"""Reading the catalog: product search and one product."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from services.catalog.domain.attributes import BadFilter, parse_condition
from services.catalog.store import attributes as attribute_store
from services.catalog.store import products as store
from services.catalog.store.models import Product, StockLevel
from services.catalog.store.products import ProductFilter, Sort
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.pagination import Page, PageParams, page_params
from shared.problems import FieldError, NotFound, Unprocessable

router = APIRouter(tags=["products"])
READERS = (Role.BUYER, Role.COMPANY_ADMIN, Role.SALES_MANAGER, Role.ADMIN, Role.SYSTEM)


class UnitRead(BaseModel):
    unit: str
    factor: Decimal = Field(description="Base units in one of this unit")


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
    attributes: dict[str, Any] = Field(description="Declared attributes: name to value")
    units: list[UnitRead] = Field(description="Alternative units besides the base `unit`")
    unit_precision: int = Field(description="Decimals a quantity in the base unit may have")
    updated_at: datetime

    @field_validator("units", mode="before")
    @classmethod
    def _unit_list(cls, units: Any) -> Any:
        if isinstance(units, dict):  # as stored: {"pack": "12"}
            return [{"unit": u, "factor": f} for u, f in sorted(units.items())]
        return units


ATTRIBUTE_FILTERS = (
    "Attribute filters: `attr.<name>=<value>` for each declared attribute (`GET /attributes`): "
    "text `attr.color=red` or any of `attr.color=red,blue`; bool `attr.frost_proof=true`; "
    "number `attr.width_mm=100`, a range `100..200` (ends included), `100..` or `..200`. "
    "An undeclared name or a value that does not fit the type is a 422 naming the parameter."
)


async def product_filter(
    request: Request,
    session: SessionDep,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description=(
                "Words, each matched as a word prefix in name, brand, description or attribute "
                "values, or anywhere in the SKU or name"
            ),
        ),
    ] = None,
    category: Annotated[
        str | None, Query(max_length=100, description="A category code; its subcategories too")
    ] = None,
    brand: Annotated[str | None, Query(max_length=100)] = None,
    status: Literal["active", "discontinued"] | None = "active",
) -> ProductFilter:
    """The filter of a product search, `attr.<name>` parameters included."""
    wanted = [
        (key, key.removeprefix("attr."), value)
        for key, value in request.query_params.multi_items()
        if key.startswith("attr.")
    ]
    types = await attribute_store.types_of(session, {name for _, name, _ in wanted})
    conditions, errors = [], []
    for key, name, value in wanted:
        if name not in types:
            errors.append(FieldError(field=key, message="is not a declared attribute"))
            continue
        try:
            conditions.append(parse_condition(name, types[name], value))
        except BadFilter as exc:
            errors.append(FieldError(field=key, message=str(exc)))
    if errors:
        raise Unprocessable("The attribute filter is invalid; see errors.", errors=errors)
    return ProductFilter(
        q=q, category=category, brand=brand, status=status, attributes=tuple(conditions)
    )


FilterDep = Annotated[ProductFilter, Depends(product_filter)]


@router.get(
    "/products",
    summary="Search products by text, category, brand, status and attributes",
    description=ATTRIBUTE_FILTERS,
)
async def list_products(
    session: SessionDep,
    principal: allow(*READERS),
    page: Annotated[PageParams, Depends(page_params)],
    where: FilterDep,
    sort: Annotated[
        Sort | None,
        Query(description="Default: relevance when `q` is given, else sku"),
    ] = None,
) -> Page[ProductRead]:
    rows, cursor = await store.search_page(
        session, where, sort or ("relevance" if where.words else "sku"), page
    )
    return Page[ProductRead](
        items=[ProductRead.model_validate(r) for r in rows], next_cursor=cursor
    )


MAX_FACET_VALUES = 50


class FacetValue(BaseModel):
    value: Any = Field(description="A brand, a category code, or an attribute value")
    label: str | None = Field(None, description="The category's name")
    count: int


class AttributeFacet(BaseModel):
    name: str
    label: str
    type: str | None
    values: list[FacetValue] = Field(description=f"The {MAX_FACET_VALUES} most frequent")
    min: Decimal | None = Field(None, description="Number attributes: the smallest value")
    max: Decimal | None = None


class Facets(BaseModel):
    total: int = Field(description="Products matching the filter")
    brands: list[FacetValue]
    categories: list[FacetValue]
    attributes: list[AttributeFacet]


def _top(values: list[FacetValue]) -> list[FacetValue]:
    return sorted(values, key=lambda v: (-v.count, str(v.value)))[:MAX_FACET_VALUES]


@router.get(
    "/products/facets",
    summary="Counts by brand, category and attribute value of the products a search matches",
    description="Takes the filters of `GET /products`. " + ATTRIBUTE_FILTERS,
)
async def product_facets(
    session: SessionDep, principal: allow(*READERS), where: FilterDep
) -> Facets:
    total = 0
    brands: list[FacetValue] = []
    categories: list[FacetValue] = []
    by_attribute: dict[str, AttributeFacet] = {}
    for facet, name, value, label, type_, count in await store.facet_rows(session, where):
        if facet == "total":
            total = count
        elif facet == "brand":
            brands.append(FacetValue(value=value, count=count))
        elif facet == "category":
            categories.append(FacetValue(value=value, label=label, count=count))
        else:
            attribute = by_attribute.setdefault(
                name, AttributeFacet(name=name, label=label or name, type=type_, values=[])
            )
            attribute.values.append(FacetValue(value=value, count=count))
    for attribute in by_attribute.values():
        numbers = [Decimal(str(v.value)) for v in attribute.values if _is_number(v.value)]
        if numbers:
            attribute.min, attribute.max = min(numbers), max(numbers)
        attribute.values = _top(attribute.values)
    return Facets(
        total=total,
        brands=_top(brands),
        categories=_top(categories),
        attributes=sorted(by_attribute.values(), key=lambda a: a.name),
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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
