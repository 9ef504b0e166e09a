"""Reading the catalog: product search and one product."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.catalog.domain.supply import Supply
from services.catalog.store.products import ProductFilter, Sort
from services.catalog.usecases import products as usecase
from shared.auth import CLIENT_READERS, Principal, allow
from shared.db import SessionDep
from shared.fields import Sku, line
from shared.pagination import Page, PageDep, PageParams, page_params
from shared.problems import FieldError, Unprocessable
from shared.scope import ensure_own_company

router = APIRouter(tags=["products"])
pages = APIRouter(tags=["products"])
READERS = CLIENT_READERS


class UnitRead(BaseModel):
    unit: str
    factor: Decimal = Field(description="Base units in one of this unit")


class NextTier(BaseModel):
    min_qty: Decimal
    unit_price_minor: int


class ClientPrice(BaseModel):
    """The client's price as pricing resolved it, for the product's minimum order quantity."""

    quantity: Decimal = Field(description="The quantity priced: the minimum order quantity")
    unit_price_minor: int | None = Field(description="Net unit price; null: no price for client")
    list_price_minor: int | None = Field(description="Before discounts")
    currency: str
    rule: str = Field(description="What produced the price, e.g. contract, base_list:BASE")
    next_tier: NextTier | None


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
    status: Literal["active", "discontinued"]
    replacement_sku: str | None
    attributes: dict[str, Any] = Field(description="Declared attributes: name to value")
    units: list[UnitRead] = Field(description="Alternative units besides the base `unit`")
    unit_precision: int = Field(description="Decimals a quantity in the base unit may have")
    images: list[str] = Field(description="Image URLs, the main one first")
    supply: Supply = Field(description="From stock, made to order, or both (stock first)")
    lead_time_days: int | None = Field(description="Production lead time, when made to order")
    min_batch: Decimal | None = Field(description="Smallest production batch, in the base unit")
    batch_multiple: Decimal | None = Field(description="Production in multiples of it")
    weight_kg: Decimal | None = Field(description="Weight of one base unit")
    volume_m3: Decimal | None = Field(description="Volume of one base unit")
    updated_at: datetime
    price: ClientPrice | None = Field(
        None, description="With `include=prices`: the client's price (null: pricing has none)"
    )
    available: Decimal | None = Field(
        None,
        description="With `include=stock`: what a checkout can have now, on hand less "
        "reserved summed over every warehouse (a reservation draws from all of them)",
    )

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
        line(200) | None,
        Query(
            description=(
                "Words, each matched as a word prefix in name, brand, description or attribute "
                "values, or anywhere in the SKU or name"
            ),
        ),
    ] = None,
    category: Annotated[
        line(100) | None, Query(description="A category code; its subcategories too")
    ] = None,
    brand: Annotated[line(100) | None, Query()] = None,
    status: Literal["active", "discontinued"] | None = "active",
) -> ProductFilter:
    """The filter of a product search, `attr.<name>` parameters included."""
    attribute_filters = [
        (key, value) for key, value in request.query_params.multi_items() if key.startswith("attr.")
    ]
    return await usecase.search_filter(session, attribute_filters, q, category, brand, status)


FilterDep = Annotated[ProductFilter, Depends(product_filter)]


INCLUDES = ("prices", "stock")
INCLUDE_DESCRIPTION = (
    "`include=prices,stock` adds to each product the client's price (one batch call to "
    "pricing for the page, for the product's minimum order quantity) and the stock available "
    "now. Prices are the client's that `client_id` names: a buyer's own company by default "
    "(another company's id answers 404); staff must name one, and a sales manager only one of "
    "the clients assigned to it (pricing checks; another answers 404)."
)


def _includes(include: str | None) -> set[str]:
    wanted = {part.strip() for part in (include or "").split(",") if part.strip()}
    unknown = sorted(wanted - set(INCLUDES))
    if unknown:
        raise Unprocessable(
            f"Unknown include: {', '.join(unknown)}.",
            errors=[FieldError(field="include", message=f"takes {', '.join(INCLUDES)}")],
        )
    return wanted


def _priced_client(principal: Principal, client_id: uuid.UUID | None) -> uuid.UUID:
    """Whose prices a page shows: the buyer's own company, or the one staff name."""
    chosen = client_id or principal.company_id
    if chosen is None:
        raise Unprocessable(
            "Say whose prices to show.",
            errors=[FieldError(field="client_id", message="is required for prices")],
        )
    ensure_own_company(principal, chosen)
    return chosen


@router.get(
    "/products",
    summary="Search products by text, category, brand, status and attributes",
    description=ATTRIBUTE_FILTERS + "\n\n" + INCLUDE_DESCRIPTION,
    responses={
        404: {"description": "With `include=prices`: a `client_id` the caller does not reach"}
    },
)
async def list_products(
    request: Request,
    session: SessionDep,
    principal: allow(*READERS),
    page: Annotated[PageParams, Depends(page_params)],
    where: FilterDep,
    sort: Annotated[
        Sort | None,
        Query(description="Default: relevance when `q` is given, else sku"),
    ] = None,
    include: Annotated[
        str | None,
        Query(pattern=r"^[a-z,]{0,50}$", description="prices, stock or prices,stock"),
    ] = None,
    client_id: Annotated[
        uuid.UUID | None,
        Query(description="Whose prices (include=prices); default the buyer's company"),
    ] = None,
) -> Page[ProductRead]:
    wanted = _includes(include)
    found = await usecase.search(
        session,
        request.app.state.upstreams,
        principal,
        where,
        sort,
        page,
        stock="stock" in wanted,
        prices_for=_priced_client(principal, client_id) if "prices" in wanted else None,
    )
    items = [ProductRead.model_validate(p) for p in found.products]
    for item in items:
        if found.available is not None:
            item.available = found.available[item.sku]
        if found.prices is not None:
            item.price = _client_price(found.prices.get(item.sku))
    return Page[ProductRead](items=items, next_cursor=found.cursor)


def _client_price(line: dict[str, Any] | None) -> ClientPrice | None:
    """Pricing's line for a SKU, without what the answer does not carry."""
    return None if line is None else ClientPrice.model_validate(line)


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
    for facet, name, value, label, type_, count in await usecase.facet_rows(session, where):
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
async def get_product(sku: Sku, session: SessionDep, principal: allow(*READERS)) -> ProductRead:
    return ProductRead.model_validate(await usecase.product(session, sku))


class StockRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    warehouse: str
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    as_of: datetime


@pages.get("/products/{sku}/stock", summary="Stock of one SKU per warehouse")
async def get_stock(
    sku: Sku, session: SessionDep, principal: allow(*READERS), page: PageDep
) -> Page[StockRead]:
    return Page.of(await usecase.stock(session, sku, page), _stock_read)


def _stock_read(level: Any) -> StockRead:
    return StockRead(
        warehouse=level.warehouse,
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=max(level.on_hand - level.reserved, Decimal(0)),
        as_of=level.as_of,
    )
