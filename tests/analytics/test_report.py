"""The client-base report: served as HTML, and drawn by a real (headless Chromium) browser."""

from __future__ import annotations

import re

import pytest

from shared.auth import Role
from shared.display import EMPTY
from shared.testing.fixtures import as_role, client
from tests.analytics.world import ADMIN, MANAGER, company, deliver, placed
from tests.browser import needs_chromium, rendered


@pytest.fixture
async def analytics(start_app):
    """Six clients: client i placed i + 2 orders of 1000 x (i + 1), 112,000 in all."""
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
    async with client(app, as_role(Role.BUYER, company_id=clients[0].company_id)) as http:
        refused = await http.get("/reports/client-base")
    assert refused.status_code == 403
    return app


async def page(app, **headers: str) -> str:
    async with client(app, MANAGER) as http:
        answer = await http.get("/reports/client-base", headers=headers)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    return answer.text


@pytest.fixture
async def report(analytics):
    return await page(analytics)


def cells(html: str, table: str) -> list[list[str]]:
    """The rows of the table under the heading `table`, as the texts of their cells."""
    body = html.split(f"<h2>{table}</h2>", 1)[1].split("</table>", 1)[0]
    return [
        re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ][1:]


async def test_every_figure_reads_as_people_write_it(report):
    assert "None" not in report
    # money in units of the currency, shares as percentages, the time to the minute
    assert "Revenue (ABC window)<b>€1,120.00</b>" in report
    assert "Top-1 share<b>37.5%</b>" in report and "Top-10 share<b>100%</b>" in report
    assert re.search(r"Computed \w{3} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s[AP]M UTC</p>", report)
    retention = cells(report, "Retention rate per period")
    assert len(retention) == 4  # the last four complete quarters, each listed
    assert all(re.fullmatch(r"\w{3} \d{4}", row[0]) for row in retention)
    assert all(re.fullmatch(r"\d+(\.\d)?%", row[4]) or row[4] == EMPTY for row in retention)
    portal = cells(report, "Satisfaction per touchpoint")[0]
    assert portal == ["portal", EMPTY, EMPTY, "0", EMPTY, EMPTY]  # no answers: dashes, not None


async def test_the_report_speaks_the_readers_language(analytics):
    russian = await page(analytics, **{"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"})
    assert '<html lang="ru">' in russian
    assert "Revenue (ABC window)<b>1\xa0120,00\xa0€</b>" in russian
    assert "Top-1 share<b>37,5\xa0%</b>" in russian


async def test_the_report_has_the_four_charts(report):
    for chart in ("abc-xyz", "ltv", "cohorts", "rfm"):
        assert f'id="{chart}"' in report
    assert report.count('class="mark"') > 9 + 25


@needs_chromium
async def test_a_real_browser_draws_every_chart(report, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(report)
    dom = await rendered(page.as_uri(), tmp_path / "profile")
    drawn = dict(re.findall(r'<figure class="chart" id="([\w-]+)"[^>]*data-drawn="(\d+)"', dom))
    sizes = dict(re.findall(r'<figure class="chart" id="([\w-]+)"[^>]*data-size="(\d+x\d+)"', dom))
    assert set(drawn) == {"abc-xyz", "ltv", "cohorts", "rfm"}, dom[:2000]
    assert int(drawn["abc-xyz"]) == 9 and int(drawn["rfm"]) == 25
    assert int(drawn["ltv"]) >= 1 and int(drawn["cohorts"]) >= 2
    assert all(size == "420x260" for size in sizes.values())
