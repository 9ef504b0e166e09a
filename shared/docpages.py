"""The API's reading pages, `/docs` (Swagger UI, to try calls) and `/redoc` (ReDoc, to read),
served with their scripts from the installed package rather than a CDN: companies run this
beside an on-premises ERP, often on machines with no way out to the internet."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

# Swagger UI 5 (OpenAPI 3.1) and ReDoc 2, pinned by the fastapi-offline version in pyproject.
ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs/assets"


def docs_router(title: str, openapi_url: str = "/openapi.json", prefix: str = "") -> APIRouter:
    """Routes of the two pages (under `prefix`: another version's) and, without a prefix, their
    assets; add them before any catch-all route."""
    router = APIRouter(include_in_schema=False, prefix=prefix)

    @router.get("/docs", response_class=HTMLResponse)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )

    @router.get("/redoc", response_class=HTMLResponse)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

    if not prefix:
        router.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    return router
