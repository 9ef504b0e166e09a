"""The API's reading pages work on a machine with no internet: Swagger UI and ReDoc come from
the installed package, and a real browser cut off from every outside name draws both."""

from __future__ import annotations

import re

import pytest

from shared.testing.fixtures import client
from tests.browser import OFFLINE, needs_chromium, rendered
from tests.gateway.test_docs_and_health import widget_service

OUTSIDE = re.compile(r"""(?:src|href)=["']?(?:https?:)?//""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_pages_and_their_assets_are_served_from_here(start_gateway, start_app, page):
    gateway = await start_gateway({"catalog": widget_service()})
    service = await start_app("catalog")  # each service serves its own pages the same way
    async with client(gateway) as http, client(service) as direct:
        html = await http.get(page)
        own = await direct.get(page)
        assets = re.findall(r"""(?:src|href)=["']?(/docs/assets/[\w.-]+)""", html.text)
        fetched = [await http.get(asset) for asset in assets]
    assert html.status_code == own.status_code == 200
    assert not OUTSIDE.search(html.text) and not OUTSIDE.search(own.text), html.text
    assert assets and all(r.status_code == 200 and len(r.content) > 1000 for r in fetched)


@needs_chromium
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_a_browser_with_no_internet_draws_the_operations(
    start_gateway, serve, tmp_path, page
):
    gateway = await start_gateway({"catalog": widget_service()})
    base = await serve(gateway)
    dom = await rendered(base + page, tmp_path / "profile", OFFLINE)
    # The page as served names no operation: only its scripts, run, can draw this one.
    assert "/api/v1/catalog/widgets" in dom, dom[:3000]
