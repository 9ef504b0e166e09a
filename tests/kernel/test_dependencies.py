"""Every dependency of every endpoint is async: FastAPI runs a plain `def` one in its thread
pool, two thread hand-offs per request that cost more than most dependencies themselves."""

from __future__ import annotations

import importlib

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import _is_async_gen_callable, _is_coroutine_callable
from fastapi.routing import APIRoute

SERVICES = ("gateway", "accounts", "catalog", "pricing", "orders", "analytics", "notifications")


def _routes(router):
    for route in getattr(router, "routes", []):
        if hasattr(route, "original_router"):  # an included router, kept as such by FastAPI
            yield from _routes(route.original_router)
        else:
            yield route


def _sync(dependant: Dependant, path: str):
    for sub in dependant.dependencies:
        call = sub.call
        if call is not None and not (_is_coroutine_callable(call) or _is_async_gen_callable(call)):
            yield f"{path}: {getattr(call, '__qualname__', call)}"
        yield from _sync(sub, path)


@pytest.mark.parametrize("service", SERVICES)
def test_no_endpoint_has_a_dependency_that_runs_in_the_thread_pool(service):
    app = importlib.import_module(f"services.{service}.app").create_app()
    routes = [r for r in _routes(app.router) if isinstance(r, APIRoute)]
    assert routes
    assert [found for r in routes for found in _sync(r.dependant, r.path)] == []
