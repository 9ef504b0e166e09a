"""The services a buyer's order passes through, in process, behind one gateway: accounts,
catalog, pricing and orders with their relays and consumers on the real broker; the other
services are down."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from services.gateway.app import create_app as create_gateway
from services.gateway.settings import SERVICES, Settings
from shared.testing.fixtures import RoutingTransport

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
