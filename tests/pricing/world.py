"""A priced world for pricing's tests.

Clients and SKUs arrive as production gets them, through pricing's projection handlers (the
accounts and catalog events). Lists and policy the engine's tests only need to exist are
inserted straight into the tables; the code under test (resolve, explain, feeds, cache, the
policy API) is exercised through HTTP.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from services.pricing.api.feeds import SPECS
from services.pricing.events import handle_company_upserted, handle_product_upserted
from shared.auth import Role
from shared.clock import utcnow
from shared.contracts.accounts import CompanyUpsertedV1
from shared.contracts.catalog import ProductUpsertedV1
from shared.contracts.pricing import PriceChangedV1
from shared.events.envelope import EventContract
from shared.feeds import process_next
from shared.testing.fixtures import as_role, client
from tests.events import company_upserted, envelope

ERP = as_role(Role.INTEGRATOR, kind="api_key", subject="erp-key-1")
ADMIN = as_role(Role.ADMIN)


async def call(app, method: str, path: str, headers=ADMIN, **kwargs):
    """One request to the app as `headers`; the answer, whatever its status."""
    async with client(app, headers) as http:
        return await http.request(method, path, **kwargs)


async def sql(app, statement: str, **params) -> list:
    async with app.state.sessionmaker() as session, session.begin():
        result = await session.execute(text(statement), params)
        rows = result.all() if result.returns_rows else []
    drop_cached_prices(app)
    return rows


async def add_list(
    app,
    code: str,
    *,
    currency="EUR",
    priority=0,
    base=False,
    parent: str | None = None,
    markup_bp=0,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> int:
    rows = await sql(
        app,
        "INSERT INTO price_lists (code, name, currency, priority, is_base, is_matrix, parent_id,"
        " markup_bp, valid_from, valid_to, updated_at) VALUES (:code, :code, :cur, :p, :base, false,"
        " (SELECT id FROM price_lists WHERE code = :parent), :m, :vf, :vt, now()) RETURNING id",
        code=code,
        cur=currency,
        p=priority,
        base=base,
        parent=parent,
        m=markup_bp,
        vf=valid_from,
        vt=valid_to,
    )
    return rows[0][0]


async def assign(app, company_id: uuid.UUID, code: str) -> None:
    await sql(
        app,
        "INSERT INTO client_price_lists (client_id, list_id) SELECT c.id, l.id FROM clients c,"
        " price_lists l WHERE c.company_id = :c AND l.code = :code",
        c=company_id,
        code=code,
    )


async def assign_group(app, group: str, code: str) -> None:
    await sql(
        app,
        "INSERT INTO group_price_lists (group_code, list_id) SELECT :g, id FROM price_lists"
        " WHERE code = :code",
        g=group,
        code=code,
    )


async def discount(app, company_id: uuid.UUID, scope: str, value: str, percent: str) -> None:
    await sql(
        app,
        "INSERT INTO client_discounts (client_id, scope, value, percent) SELECT id, :s, :v, :p"
        " FROM clients WHERE company_id = :c",
        c=company_id,
        s=scope,
        v=value,
        p=Decimal(percent),
    )


async def cost(app, sku: str, cost_minor: int, currency="EUR") -> None:
    """The SKU's cost of goods, as catalog's product.upserted brings it."""
    event = product_event(sku, "Knauf", "boards", cost_minor=cost_minor, cost_currency=currency)
    async with app.state.sessionmaker() as session, session.begin():
        await handle_product_upserted(event, session)


async def floor(app, sku: str, price_minor: int, currency="EUR") -> None:
    await sql(
        app,
        "INSERT INTO floor_prices (sku_id, currency, price_minor) SELECT id, :cur, :p FROM skus"
        " WHERE sku = :s",
        s=sku,
        cur=currency,
        p=price_minor,
    )


def company_event(
    company_id: uuid.UUID | None = None,
    *,
    external_id: str | None = None,
    legal_name: str | None = None,
    group_code: str | None = None,
    currency: str = "EUR",
    status: str = "active",
    updated_at: datetime | None = None,
    partners: list[str] | None = None,
    sales_manager_id: uuid.UUID | None = None,
) -> CompanyUpsertedV1:
    """A company.upserted as accounts publishes it."""
    return company_upserted(
        company_id,
        external_id=external_id,
        legal_name=legal_name or external_id or "Client",
        client_group=group_code,
        sales_manager_id=sales_manager_id,
        currency=currency,
        payment_terms_days=0,
        status=status,
        updated_at=updated_at or utcnow(),
        partners=partners or [],
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
    cost_minor: int | None = None,
    cost_currency: str | None = None,
) -> ProductUpsertedV1:
    """A product.upserted as catalog publishes it."""
    return ProductUpsertedV1(
        sku=sku,
        name=name or sku,
        brand=brand,
        category=category,
        unit=unit,
        sellable=sellable,
        cost_minor=cost_minor,
        cost_currency=cost_currency,
        updated_at=updated_at or utcnow(),
    )


def drop_cached_prices(app) -> None:
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
    partners: list[str] | None = None,
    sales_manager_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A client as the accounts event would make it; returns its company id."""
    event = company_event(
        company_id,
        external_id=external_id,
        group_code=group_code,
        currency=currency,
        partners=partners,
        sales_manager_id=sales_manager_id,
    )
    async with app.state.sessionmaker() as session, session.begin():
        await handle_company_upserted(event, session)
    drop_cached_prices(app)
    return event.company_id


async def seed_skus(app, skus: Iterable[tuple[str, str | None, str | None]]) -> None:
    """SKUs as catalog events would make them: [(sku, brand, category), ...], one transaction."""
    async with app.state.sessionmaker() as session, session.begin():
        for sku, brand, category in skus:
            await handle_product_upserted(product_event(sku, brand, category), session)
    drop_cached_prices(app)


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


async def post_prices(app, body: str, *, headers=None, **params):
    async with client(app, {**ERP, "Content-Type": "text/csv", **(headers or {})}) as http:
        return await http.post("/feeds/prices", content=body, params=params)


async def run_jobs(app) -> None:
    while await process_next(app, SPECS):
        pass


async def feed(app, body: str, **params) -> dict:
    """Post a price feed, run it, and return the finished job."""
    posted = await post_prices(app, body, **params)
    assert posted.status_code == 202, posted.text
    if not app.state.settings.run_workers:
        await run_jobs(app)
    async with client(app, ERP) as http:
        for _ in range(200):  # the app's own worker runs it
            job = (await http.get(f"/feeds/{posted.json()['id']}")).json()
            if job["state"] in ("succeeded", "rejected", "failed", "staged"):
                break
            await asyncio.sleep(0.05)
    return job


def resolve_body(company_id, lines, **extra) -> dict:
    """A `POST /prices/resolve` body for `lines` of (SKU, quantity)."""
    return {
        "client_id": str(company_id),
        "lines": [{"sku": s, "quantity": str(q)} for s, q in lines],
        **extra,
    }


async def resolve(app, company_id, lines, *, headers=ADMIN, **extra) -> dict:
    async with client(app, headers) as http:
        answer = await http.post("/prices/resolve", json=resolve_body(company_id, lines, **extra))
    assert answer.status_code == 200, answer.text
    return {line["sku"]: line for line in answer.json()["lines"]}


async def publish(bootstrap: str, *events: tuple[EventContract, str]) -> None:
    """Put events on the real broker, keyed by aggregate as the relay does."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for event, source in events:
            wrapped = envelope(event, source)
            await producer.send_and_wait(
                event.topic, value=wrapped.model_dump_json().encode(), key=wrapped.subject.encode()
            )
    finally:
        await producer.stop()
