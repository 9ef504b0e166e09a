"""`/openapi.json`: every service's document merged (`/docs` and `/redoc` read it: shared.docpages)."""

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


@router.get("/openapi.json", summary="The merged OpenAPI document of every service")
async def openapi(gateway: GatewayDep) -> JSONResponse:
    document = await gateway.docs.get(lambda: build_document(gateway))
    return JSONResponse(document)


async def build_document(gateway: Gateway) -> dict[str, Any]:
    names = sorted(gateway.upstreams)
    fetched = await asyncio.gather(*(_fetch(gateway, name) for name in names))
    documents = {name: doc for name, doc in zip(names, fetched, strict=True) if doc is not None}
    return merge_documents(documents, unavailable=[n for n in names if n not in documents])


async def _fetch(gateway: Gateway, service: str) -> dict[str, Any] | None:
    try:
        response = await gateway.http.get(
            gateway.upstreams[service] + "/openapi.json", timeout=FETCH_TIMEOUT_SECONDS
        )
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("no OpenAPI document from %s: %r", service, exc)
        return None
    return document if isinstance(document, dict) else None
