"""Pricing test fixtures: the app, and clients and SKUs seeded the way production gets them,
through pricing's own projection handlers (the accounts and catalog events)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text

from services.pricing.events import handle_company_upserted, handle_product_upserted
from shared.contracts.accounts import CompanyUpsertedV1
from shared.contracts.catalog import ProductUpsertedV1
from shared.contracts.pricing import PriceChangedV1
from shared.db import utcnow


@pytest.fixture
async def pricing(start_app):
    return await start_app("pricing")


def company_event(
    company_id: uuid.UUID | None = None,
    *,
    external_id: str | None = None,
    legal_name: str | None = None,
    group_code: str | None = None,
    currency: str = "EUR",
    status: str = "active",
    updated_at: datetime | None = None,
) -> CompanyUpsertedV1:
    """A company.upserted as accounts publishes it."""
    return CompanyUpsertedV1(
        company_id=company_id or uuid.uuid4(),
        external_id=external_id,
        legal_name=legal_name or external_id or "Client",
        tax_id=None,
        industry=None,
        client_type=None,
        client_group=group_code,
        sales_manager_id=None,
        credit_limit_minor=None,
        currency=currency,
        payment_terms_days=0,
        status=status,
        updated_at=updated_at or utcnow(),
    )


def product_event(
    sku: str,
    brand: str | None = None,
    category: str | None = None,
    *,
    name: str | None = None,
    unit: str = "pcs",
    sellable: bool = True,
    updated_at: datetime | None = None,
) -> ProductUpsertedV1:
    """A product.upserted as catalog publishes it."""
    return ProductUpsertedV1(
        sku=sku,
        name=name or sku,
        brand=brand,
        category=category,
        unit=unit,
        sellable=sellable,
        updated_at=updated_at or utcnow(),
    )


def _drop_cached_prices(app) -> None:
    """Seeds are written behind the price engine's back (no price.changed): drop its cache."""
    engine = getattr(app.state, "price_engine", None)
    if engine is not None:
        engine.invalidate(lists=True, clients=None)


async def seed_client(
    app,
    *,
    external_id: str,
    group_code: str | None = None,
    currency: str = "EUR",
    company_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A client as the accounts event would make it; returns its company id."""
    event = company_event(
        company_id, external_id=external_id, group_code=group_code, currency=currency
    )
    async with app.state.sessionmaker() as session, session.begin():
        await handle_company_upserted(event, session)
    _drop_cached_prices(app)
    return event.company_id


async def seed_skus(app, skus: Iterable[tuple[str, str | None, str | None]]) -> None:
    """SKUs as catalog events would make them: [(sku, brand, category), ...], one transaction."""
    async with app.state.sessionmaker() as session, session.begin():
        for sku, brand, category in skus:
            await handle_product_upserted(product_event(sku, brand, category), session)
    _drop_cached_prices(app)


async def fetch(app, statement: str, **params: Any) -> list[Any]:
    """Rows of a read-only query, for asserting on what the service stored."""
    async with app.state.sessionmaker() as session:
        return list((await session.execute(text(statement), params)).all())


async def price_changes(app) -> list[dict[str, Any]]:
    """The data of every price.changed in the outbox, oldest first."""
    rows = await fetch(
        app,
        "SELECT payload FROM outbox WHERE type = :t ORDER BY seq",
        t=PriceChangedV1.full_type(),
    )
    return [row.payload["data"] for row in rows]
