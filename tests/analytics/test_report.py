"""The client-base report: served as HTML, and drawn by a real (headless Chromium) browser."""

from __future__ import annotations

import asyncio
import re
import shutil

import pytest

from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.analytics.world import ADMIN, MANAGER, company, deliver, placed

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=3000",
]


@pytest.fixture
async def report(start_app):
    app = await start_app("analytics", recompute_interval_seconds=0)
    clients = [company() for _ in range(6)]
    await deliver(app, *clients)
    for i, c in enumerate(clients):
        await deliver(
            app,
            *(
                placed(c.company_id, 5 + 30 * k, {"SKU-1": ("1", 1000 * (i + 1))})
                for k in range(i + 2)
            ),
        )
    async with client(app, ADMIN) as http:
        assert (await http.post("/recompute")).status_code == 200
    async with client(app, MANAGER) as http:
        page = await http.get("/reports/client-base")
    async with client(app, as_role(Role.BUYER, company_id=clients[0].company_id)) as http:
        refused = await http.get("/reports/client-base")
    assert refused.status_code == 403
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    return page.text


async def test_the_report_has_the_four_charts(report):
    for chart in ("abc-xyz", "ltv", "cohorts", "rfm"):
        assert f'id="{chart}"' in report
    assert report.count('class="mark"') > 9 + 25


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
async def test_a_real_browser_draws_every_chart(report, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(report)
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        *FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        "--dump-dom",
        page.as_uri(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    dom = out.decode()
    drawn = dict(re.findall(r'<figure class="chart" id="([\w-]+)"[^>]*data-drawn="(\d+)"', dom))
    sizes = dict(re.findall(r'<figure class="chart" id="([\w-]+)"[^>]*data-size="(\d+x\d+)"', dom))
    assert set(drawn) == {"abc-xyz", "ltv", "cohorts", "rfm"}, dom[:2000]
    assert int(drawn["abc-xyz"]) == 9 and int(drawn["rfm"]) == 25
    assert int(drawn["ltv"]) >= 1 and int(drawn["cohorts"]) >= 2
    assert all(size == "420x260" for size in sizes.values())
