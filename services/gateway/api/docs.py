"""The merged OpenAPI of every service behind the gateway, and Swagger UI over it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from services.gateway.openapi.service import merge_documents

router = APIRouter(include_in_schema=False)
CACHE_SECONDS = 60.0


async def _fetch(
    http: httpx.AsyncClient, name: str, base: str
) -> tuple[str, dict[str, Any] | None]:
    try:
        response = await http.get(f"{base}/openapi.json", timeout=5.0)
        return name, response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return name, None


@router.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    state = request.app.state
    cached = getattr(state, "openapi_cache", None)
    if cached and cached[1] > time.monotonic():
        return JSONResponse(cached[0])
    fetched = await asyncio.gather(*(_fetch(state.http, n, b) for n, b in state.upstreams.items()))
    documents = {name: doc for name, doc in fetched if doc is not None}
    merged = merge_documents(documents)
    down = sorted(name for name, doc in fetched if doc is None)
    if down:
        merged["x-unavailable-services"] = down
    else:  # only a complete document is worth caching
        state.openapi_cache = (merged, time.monotonic() + CACHE_SECONDS)
    return JSONResponse(merged)


@router.get("/docs")
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="B2B Commerce API")
