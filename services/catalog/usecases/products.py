"""Reading the catalog: a search's filter, a page of products (with the client's prices and
the stock available, when asked), its facets, one product and its stock."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.clients import pricing
from services.catalog.domain.attributes import BadFilter, parse_condition
from services.catalog.store import attributes as attribute_store
from services.catalog.store import products as store
from services.catalog.store.models import Product, StockLevel
from services.catalog.store.products import ProductFilter, Sort
from shared.auth import Principal
from shared.db import release
from shared.pagination import PageParams, page_of
from shared.problems import FieldError, NotFound, Unprocessable
from shared.scope import assigned_manager
from shared.upstream import Upstreams


async def search_filter(
    session: AsyncSession,
    attribute_filters: Iterable[tuple[str, str]],
    q: str | None = None,
    category: str | None = None,
    brand: str | None = None,
    status: str | None = "active",
) -> ProductFilter:
    """The filter of a search; `attribute_filters` are the (parameter, value) pairs of the
    `attr.<name>` parameters. An undeclared attribute or a value its type does not take is a
    422 naming each such parameter."""
    wanted = [(key, key.removeprefix("attr."), value) for key, value in attribute_filters]
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


@dataclass(frozen=True)
class ProductPage:
    """A page of products (column name to value); `available` by SKU when stock was asked
    for, `prices` (pricing's line by SKU) when prices were."""

    products: list[dict[str, Any]]
    cursor: str | None
    available: dict[str, Decimal] | None = None
    prices: dict[str, dict[str, Any]] | None = None


async def search(
    session: AsyncSession,
    upstreams: Upstreams,
    principal: Principal,
    where: ProductFilter,
    sort: Sort | None,
    page: PageParams,
    *,
    stock: bool = False,
    prices_for: uuid.UUID | None = None,
) -> ProductPage:
    """A page of products, by relevance when words are searched unless `sort` says otherwise.
    With `prices_for` (a company the caller may act for), each product's price for its
    minimum order quantity, in one call to pricing made after the connection is given back."""
    rows, cursor = await store.search_page(
        session, where, sort or ("relevance" if where.words else "sku"), page
    )
    products = list(rows)
    available = None
    if stock and products:
        found = await store.available_by_sku(session, [p["sku"] for p in products])
        available = {p["sku"]: found.get(p["sku"], Decimal("0.000")) for p in products}
    await release(session)
    prices = None
    if prices_for is not None and products:
        prices = await client_prices(
            upstreams, principal, prices_for, [(p["sku"], p["min_order_qty"]) for p in products]
        )
    return ProductPage(products, cursor, available, prices)


async def client_prices(
    upstreams: Upstreams,
    principal: Principal,
    company_id: uuid.UUID,
    lines: list[tuple[str, Decimal]],
) -> dict[str, dict[str, Any]]:
    """Pricing's line by SKU; none when pricing does not know the client yet."""
    answer = await pricing.client_prices(upstreams, principal, company_id, lines)
    if answer is None:
        if assigned_manager(principal) is not None:
            # Pricing answers a client not assigned to this sales manager as unknown: so the
            # manager's page is refused rather than shown without prices.
            raise NotFound("No such client.")
        return {}
    return {line["sku"]: line for line in answer["lines"]}


async def facet_rows(session: AsyncSession, where: ProductFilter) -> list[Any]:
    """(facet, name, value, label, type, count) rows: the total, brands, categories and
    attribute values of what the filter matches."""
    return await store.facet_rows(session, where)


async def product(session: AsyncSession, sku: str) -> Product:
    found = await store.by_sku(session, sku)
    if found is None:
        raise NotFound(f"No product {sku}.")
    return found


async def stock(
    session: AsyncSession, sku: str, page: PageParams
) -> tuple[list[StockLevel], str | None]:
    """The product's stock per warehouse; 404 for no such product."""
    await product(session, sku)
    return page_of(await store.stock_levels(session, sku), lambda s: (s.warehouse,), page)


async def declared_attributes(
    session: AsyncSession, page: PageParams
) -> tuple[list[Any], str | None]:
    """The attributes ERP declared, which searches may filter by."""
    return page_of(await attribute_store.definitions(session), lambda a: (a.name,), page)
