"""The gateway in front of real service apps, in process: upstream calls go through ASGI."""

from __future__ import annotations

import contextlib

import pytest
from fastapi import FastAPI, Request

from services.gateway.app import create_app
from services.gateway.settings import SERVICES, Settings
from shared.auth import verify_principal_headers
from shared.settings import DEV_INTERNAL_SECRET
from shared.testing.fixtures import RoutingTransport, running

CLOSED_PORT = "http://127.0.0.1:1"


def echo_app() -> FastAPI:
    """A real upstream that answers with what it received, to see what the gateway forwards."""
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST"], include_in_schema=False)
    async def echo(path: str, request: Request) -> dict:
        body = b"".join([chunk async for chunk in request.stream()])
        principal = verify_principal_headers(request.headers, DEV_INTERNAL_SECRET)
        return {
            "path": path,
            "query": str(request.url.query),
            "headers": dict(request.headers),
            "body_bytes": len(body),
            "principal": principal.model_dump(mode="json") if principal else None,
        }

    return app


@pytest.fixture
async def gateway(start_app):
    """gateway(**settings) -> the gateway app, routing accounts to the real accounts app and
    orders to an echo app; other services point at a closed port (down)."""
    stack = contextlib.AsyncExitStack()

    async def start(**overrides) -> FastAPI:
        accounts = await start_app("accounts")
        values = {
            "environment": "test",
            "log_json": False,
            "accounts_url": "http://accounts",
            "orders_url": "http://orders",
            "catalog_url": "http://127.0.0.1:1",
            "pricing_url": "http://127.0.0.1:1",
            "analytics_url": "http://127.0.0.1:1",
            "notifications_url": "http://127.0.0.1:1",
            **overrides,
        }
        app = create_app(
            Settings(**values),
            transport=RoutingTransport({"accounts": accounts, "orders": echo_app()}),
        )
        app.state.accounts = accounts
        await stack.enter_async_context(running(app))
        return app

    async with stack:
        yield start


@pytest.fixture
async def start_gateway():
    """start_gateway({"catalog": app}, **settings) -> a started gateway, no database needed.

    Each named app answers for its service in process; the other services are down.
    """
    stack = contextlib.AsyncExitStack()

    async def start(upstreams: dict[str, FastAPI] | None = None, **overrides) -> FastAPI:
        upstreams = upstreams or {}
        for name in SERVICES:
            overrides.setdefault(
                f"{name}_url", f"http://{name}" if name in upstreams else CLOSED_PORT
            )
        settings = Settings(environment="test", log_json=False, **overrides)
        app = create_app(settings, transport=RoutingTransport(upstreams))
        await stack.enter_async_context(running(app))
        return app

    async with stack:
        yield start
