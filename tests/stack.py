"""The services a buyer's order passes through, in process, behind one gateway: accounts,
catalog, pricing and orders with their relays and consumers on the real broker; the other
services are down."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import FastAPI

from services.gateway.app import create_app as create_gateway
from services.gateway.settings import SERVICES, Settings
from shared.testing.fixtures import RoutingTransport
from tests.accounts.factories import add_user

CLOSED = "http://127.0.0.1:1"


async def start_order_stack(
    start_app: Callable[..., Awaitable[FastAPI]],
) -> tuple[dict[str, FastAPI], FastAPI]:
    """(the service apps by name, the gateway over them); start the gateway with `running`."""
    accounts = await start_app("accounts", run_workers=True, from_now=True)
    catalog = await start_app("catalog", run_workers=True, from_now=True)
    pricing = await start_app("pricing", run_workers=True, from_now=True)
    orders = await start_app(
        "orders",
        run_workers=True,
        from_now=True,
        upstreams={"accounts": accounts, "catalog": catalog, "pricing": pricing},
    )
    apps = {"accounts": accounts, "catalog": catalog, "pricing": pricing, "orders": orders}
    urls = {f"{n}_url": (f"http://{n}" if n in apps else CLOSED) for n in SERVICES}
    gateway = create_gateway(
        Settings(environment="test", log_json=False, **urls), transport=RoutingTransport(apps)
    )
    return apps, gateway


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 60.0) -> Any:
    """Polls `check` until it answers something true: the services settle through the broker."""
    for _ in range(int(within / 0.1)):
        if value := await check():
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("the services did not settle in time")


async def seller_and_erp(
    http: httpx.AsyncClient, accounts: FastAPI, email: str
) -> tuple[dict[str, str], dict[str, str]]:
    """The headers of a seller's admin logged in through the gateway, and of ERP with the
    integrator key that admin made."""
    await add_user(accounts, email, staff_role="admin")
    login = await http.post(
        "/api/v1/accounts/auth/login", json={"email": email, "password": "secret-password"}
    )
    admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
    key = await http.post(
        "/api/v1/accounts/api-keys", headers=admin, json={"name": "ERP", "role": "integrator"}
    )
    return admin, {"X-API-Key": key.json()["key"]}


async def erp_feeds(http: httpx.AsyncClient, erp: dict[str, str], path: str, csv: str) -> None:
    """ERP posts a feed through the gateway; answers once its job succeeded."""
    posted = await http.post(path, headers={**erp, "Content-Type": "text/csv"}, content=csv)
    assert posted.status_code == 202, posted.text
    job = f"{path.rsplit('/', 1)[0]}/{posted.json()['id']}"

    async def finished():
        state = (await http.get(job, headers=erp)).json()["state"]
        return state if state in ("succeeded", "rejected", "failed") else None

    assert await eventually(finished) == "succeeded"


async def client_and_products(
    http: httpx.AsyncClient,
    admin: dict[str, str],
    erp: dict[str, str],
    products: str,
    stock: str,
    skus: list[str],
) -> str:
    """ERP feeds the client C-1 (Alpha LLC), the catalog rows `products` and the stock rows
    `stock` (CSV without their headers); the seller opens the EUR base price list. Answers
    C-1's company id once pricing knows it and `skus` (from accounts' and catalog's events),
    so that their prices can be fed."""
    await erp_feeds(
        http,
        erp,
        "/api/v1/accounts/feeds/clients",
        "external_id,legal_name,credit_limit_minor\nC-1,Alpha LLC,5000000\n",
    )
    await erp_feeds(
        http,
        erp,
        "/api/v1/catalog/feeds/catalog",
        "sku,name,brand,category,unit,min_order_qty,order_multiple\n" + products,
    )
    await erp_feeds(http, erp, "/api/v1/catalog/feeds/stock", "sku,warehouse,on_hand\n" + stock)
    base = await http.post(
        "/api/v1/pricing/price-lists",
        headers=admin,
        json={"code": "BASE", "name": "Base", "currency": "EUR", "is_base": True},
    )
    assert base.status_code == 201, base.text

    async def c1() -> str | None:
        page = await http.get("/api/v1/accounts/companies", headers=admin, params={"q": "C-1"})
        return next((c["id"] for c in page.json()["items"] if c["external_id"] == "C-1"), None)

    company_id = await eventually(c1)

    async def pricing_knows_them() -> bool:
        resolved = await http.post(
            "/api/v1/pricing/prices/resolve",
            headers=admin,
            json={
                "client_id": company_id,
                "currency": "EUR",
                "lines": [{"sku": sku} for sku in skus],
            },
        )
        return resolved.status_code == 200 and all(
            x["rule"] != "unknown sku" for x in resolved.json()["lines"]
        )

    await eventually(pricing_knows_them)
    return company_id
