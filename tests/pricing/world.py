"""A small priced world for the engine's tests, written straight into the pricing tables.

Clients and SKUs normally arrive as accounts and catalog events; lists and policy through the
admin API. The engine's tests only need them to exist, so they are inserted directly here and
the code under test (resolve, explain, feeds, cache) is exercised through HTTP.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import text

from services.pricing.api.feeds import SPECS
from shared.auth import Role
from shared.feeds import process_next
from shared.testing.fixtures import as_role, client

ERP = as_role(Role.INTEGRATOR, kind="api_key", subject="erp-key-1")
ADMIN = as_role(Role.ADMIN)


async def sql(app, statement: str, **params) -> list:
    async with app.state.sessionmaker() as session, session.begin():
        result = await session.execute(text(statement), params)
        rows = result.all() if result.returns_rows else []
    # Written behind the engine's back (no price.changed event): drop its cache.
    app.state.price_engine.invalidate(lists=True, clients=None)
    return rows


async def add_client(
    app, external_id: str, *, group: str | None = None, currency="EUR"
) -> uuid.UUID:
    company_id = uuid.uuid4()
    await sql(
        app,
        "INSERT INTO clients (company_id, external_id, legal_name, group_code, currency, status, updated_at)"
        " VALUES (:c, :e, :e, :g, :cur, 'active', now())",
        c=company_id,
        e=external_id,
        g=group,
        cur=currency,
    )
    return company_id


async def add_skus(app, *skus: tuple[str, str | None, str | None]) -> None:
    for sku, brand, category in skus:
        await sql(
            app,
            "INSERT INTO skus (sku, name, brand, category, unit, sellable, updated_at)"
            " VALUES (:s, :s, :b, :c, 'pcs', true, now())",
            s=sku,
            b=brand,
            c=category,
        )


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


async def floor(app, sku: str, price_minor: int, currency="EUR") -> None:
    await sql(
        app,
        "INSERT INTO floor_prices (sku_id, currency, price_minor) SELECT id, :cur, :p FROM skus"
        " WHERE sku = :s",
        s=sku,
        cur=currency,
        p=price_minor,
    )


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
            if job["state"] in ("succeeded", "rejected", "failed"):
                break
            await asyncio.sleep(0.05)
    return job


async def resolve(app, company_id, lines, *, headers=ADMIN, **extra) -> dict:
    async with client(app, headers) as http:
        answer = await http.post(
            "/prices/resolve",
            json={
                "client_id": str(company_id),
                "lines": [{"sku": s, "quantity": str(q)} for s, q in lines],
                **extra,
            },
        )
    assert answer.status_code == 200, answer.text
    return {line["sku"]: line for line in answer.json()["lines"]}
