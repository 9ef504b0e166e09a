"""`/openapi.json` and `/v2/openapi.json`: every service's document of that API version merged
(`/docs` and `/redoc` read them: shared.docpages)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.gateway.api.deps import Gateway, GatewayDep
from services.gateway.openapi.service import merge_documents

log = logging.getLogger(__name__)
router = APIRouter(tags=["docs"])
FETCH_TIMEOUT_SECONDS = 5.0


@router.get("/openapi.json", summary="The merged OpenAPI document of every service (v1)")
async def openapi(gateway: GatewayDep) -> JSONResponse:
    return JSONResponse(await gateway.docs.get(1, lambda: build_document(gateway, 1)))


@router.get("/v2/openapi.json", summary="The merged OpenAPI document of every service (v2)")
async def openapi_v2(gateway: GatewayDep) -> JSONResponse:
    return JSONResponse(await gateway.docs.get(2, lambda: build_document(gateway, 2)))


async def build_document(gateway: Gateway, version: int) -> dict[str, Any]:
    names = sorted(gateway.upstreams)
    fetched = await asyncio.gather(*(_fetch(gateway, name, version) for name in names))
    documents = {name: doc for name, doc in zip(names, fetched, strict=True) if doc is not None}
    down = [n for n in names if n not in documents]
    return merge_documents(documents, unavailable=down, version=version)


async def _fetch(gateway: Gateway, service: str, version: int) -> dict[str, Any] | None:
    path = "/v2/openapi.json" if version == 2 else "/openapi.json"
    try:
        response = await gateway.http.get(
            gateway.upstreams[service] + path, timeout=FETCH_TIMEOUT_SECONDS
        )
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("no OpenAPI document from %s: %r", service, exc)
        return None
    return document if isinstance(document, dict) else None
