"""A shop for the orders tests: accounts, catalog, pricing and orders running in process, the
orders service calling the other three over HTTP (ASGI). ERP's feeds set the world up; the
catalog and accounts events reach pricing and orders as the broker would deliver them (read
from the publishers' outboxes and handed to the consumers' handlers)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from services.catalog.api.feeds import SPECS as CATALOG_FEEDS
from services.orders import events as orders_events
from services.pricing import events as pricing_events
from services.pricing.api.feeds import SPECS as PRICE_FEEDS
from shared.auth import Role
from shared.contracts.accounts import CompanyUpsertedV1
from shared.contracts.catalog import ProductUpsertedV1
from shared.feeds import process_next
from shared.testing.fixtures import as_role, client
from tests.accounts.factories import add_user
from tests.pricing.world import add_list, drop_cached_prices

ERP = as_role(Role.INTEGRATOR, kind="api_key", subject="erp-key-1")
ADMIN = as_role(Role.ADMIN)
PRODUCTS = (
    "sku,name,brand,category,unit,min_order_qty,order_multiple,status,replacement_sku\n"
    "CE-200,Tile glue CE 200 25 kg,Ceresit,glue,bag,1,1,active,\n"
    "KN-100,Knauf board 12.5 mm,Knauf,boards,pcs,10,5,active,\n"
    "OLD-1,Old primer,Ceresit,primer,pcs,1,1,discontinued,CE-200\n"
)
STOCK = "sku,warehouse,on_hand\nCE-200,MAIN,100\nKN-100,MAIN,500\nOLD-1,MAIN,5\n"
PRICES = (
    "list,client,sku,min_qty,price_minor,currency,valid_from,valid_to\n"
    "BASE,,CE-200,1,1250,EUR,,\n"
    "BASE,,CE-200,50,1100,EUR,,\n"
    "BASE,,KN-100,1,480,EUR,,\n"
    "BASE,,OLD-1,1,300,EUR,,\n"
)


@dataclass
class Shop:
    accounts: FastAPI
    catalog: FastAPI
    pricing: FastAPI
    orders: FastAPI
    company_id: uuid.UUID
    buyer: dict[str, str]
    buyer_id: uuid.UUID
    manager: dict[str, str]  # the client's assigned sales manager
    manager_id: uuid.UUID

    def as_buyer(self, **headers: str) -> Any:
        return client(self.orders, {**self.buyer, **headers})

    def as_stranger(self) -> Any:
        """A buyer of another company: it must find none of this company's things."""
        return client(self.orders, as_role(Role.BUYER, company_id=uuid.uuid4()))


async def post_feed(
    app: FastAPI, specs: Any, kind: str, body: str, expect: str = "succeeded", **params: Any
) -> dict:
    """The feed posted as ERP and run; its job, in the `expect`ed state."""
    async with client(app, {**ERP, "Content-Type": "text/csv"}) as http:
        posted = await http.post(f"/feeds/{kind}", content=body, params=params)
        assert posted.status_code == 202, posted.text
        while await process_next(app, specs):
            pass
        job = (await http.get(f"/feeds/{posted.json()['id']}")).json()
    assert job["state"] == expect, job
    return job


async def deliver_events(source: FastAPI, contract: Any, *targets: FastAPI) -> int:
    """Hand every `contract` event in `source`'s outbox to the targets' consumer handlers."""
    async with source.state.sessionmaker() as session:
        rows = (
            await session.execute(
                text("SELECT payload FROM outbox WHERE type = :t ORDER BY seq"),
                {"t": contract.full_type()},
            )
        ).all()
    for target in targets:
        module = orders_events if target.state.service == "orders" else pricing_events
        handler = next(iter(module.CONSUMERS.values()))[contract]
        async with target.state.sessionmaker() as session, session.begin():
            for (payload,) in rows:
                await handler(contract.model_validate(payload["data"]), session)
        drop_cached_prices(target)
    return len(rows)


async def new_company(shop_apps: tuple[FastAPI, ...], external_id: str, **fields: Any) -> uuid.UUID:
    accounts, _, pricing, orders = shop_apps
    async with client(accounts, ADMIN) as http:
        created = await http.post(
            "/companies",
            json={"legal_name": f"Client {external_id}", "external_id": external_id, **fields},
        )
    assert created.status_code == 201, created.text
    await deliver_events(accounts, CompanyUpsertedV1, pricing, orders)
    return uuid.UUID(created.json()["id"])


async def open_shop(
    start_app: Any, *, credit_limit_minor: int | None = None, **orders_settings: Any
) -> Shop:
    accounts = await start_app("accounts")
    catalog = await start_app("catalog")
    pricing = await start_app("pricing")
    orders = await start_app(
        "orders",
        upstreams={"accounts": accounts, "catalog": catalog, "pricing": pricing},
        **orders_settings,
    )
    apps = (accounts, catalog, pricing, orders)
    manager_id = await add_user(accounts, "manager@example.com", staff_role="sales_manager")
    company_id = await new_company(
        apps,
        "C1",
        credit_limit_minor=credit_limit_minor,
        currency="EUR",
        sales_manager_id=str(manager_id),
    )
    await post_feed(catalog, CATALOG_FEEDS, "catalog", PRODUCTS)
    await post_feed(catalog, CATALOG_FEEDS, "stock", STOCK)
    await deliver_events(catalog, ProductUpsertedV1, pricing, orders)
    await add_list(pricing, "BASE", base=True)
    await post_feed(pricing, PRICE_FEEDS, "prices", PRICES)
    drop_cached_prices(pricing)
    buyer_id = uuid.uuid4()
    buyer = as_role(Role.BUYER, company_id=company_id, subject=buyer_id)
    manager = as_role(Role.SALES_MANAGER, subject=manager_id)
    return Shop(
        accounts, catalog, pricing, orders, company_id, buyer, buyer_id, manager, manager_id
    )


async def new_cart(
    shop: Shop, lines: dict[str, str] | None = None, name: str = "Main", headers=None
) -> str:
    async with client(shop.orders, headers or shop.buyer) as http:
        cart = await http.post("/carts", json={"name": name})
        assert cart.status_code == 201, cart.text
        cart_id = cart.json()["id"]
        if lines:
            put = await http.put(
                f"/carts/{cart_id}/lines",
                json={"lines": [{"sku": s, "quantity": q} for s, q in lines.items()]},
            )
            assert put.status_code == 200, put.text
    return cart_id


async def stock_of(shop: Shop, sku: str) -> dict[str, Any]:
    async with client(shop.catalog, ADMIN) as http:
        levels = (await http.get(f"/products/{sku}/stock")).json()
    return levels[0]


async def outbox_types(app: FastAPI) -> list[str]:
    async with app.state.sessionmaker() as session:
        rows = await session.execute(text("SELECT type FROM outbox ORDER BY seq"))
        return [".".join(r[0].split(".")[-3:-1]) for r in rows]
