"""`GET /reports/client-base`: an HTML page people can look at, with the charts drawn as inline
SVG on the server (ABC/XYZ heatmap, LTV distribution, cohort retention curve, RFM map) from the
same summary the API serves, laid out by the Jinja template `templates/client_base.html` with
every figure formatted for the reader's language (`shared/display.py`). No JavaScript is needed
to draw them; a few lines mark each chart as drawn once the browser has laid it out (what the
browser test checks)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from services.analytics.store import queries
from shared import display
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.fields import CurrencyCode
from shared.pagination import PageParams

router = APIRouter(tags=["reports"])
W, H = 420, 260
PAGES = display.install(
    Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
SEGMENT_TABLES = ("rfm_segment", "ladder", "regularity", "check_tier", "payment_behaviour")


def _shade(value: float, top: float) -> str:
    """White to deep blue by value / top."""
    t = 0 if top <= 0 else max(0.0, min(1.0, value / top))
    r, g, b = (int(255 - t * (255 - c)) for c in (30, 64, 175))
    return f"rgb({r},{g},{b})"


def _svg(body: str, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}">{body}</svg>'
    )


def matrix_chart(summary: dict[str, Any]) -> str:
    cells = {c["matrix_cell"]: c for c in summary.get("matrix", [])}
    top = max([c["clients"] for c in cells.values()] or [0])
    size, x0, y0 = 70, 60, 30
    out = []
    for j, xyz in enumerate("XYZ"):
        out.append(f'<text x="{x0 + j * size + size / 2}" y="20" text-anchor="middle">{xyz}</text>')
    for i, abc in enumerate("ABC"):
        out.append(
            f'<text x="40" y="{y0 + i * size + size / 2 + 4}" text-anchor="middle">{abc}</text>'
        )
        for j, xyz in enumerate("XYZ"):
            cell = cells.get(abc + xyz, {"clients": 0, "revenue_minor": 0})
            x, y = x0 + j * size, y0 + i * size
            out.append(
                f'<rect class="mark" x="{x}" y="{y}" width="{size - 2}" height="{size - 2}" '
                f'fill="{_shade(cell["clients"], top)}" stroke="#cbd5e1"><title>{abc}{xyz}: '
                f"{cell['clients']} clients</title></rect>"
                f'<text x="{x + size / 2}" y="{y + size / 2 + 4}" text-anchor="middle" '
                f'font-size="13">{cell["clients"]}</text>'
            )
    return _svg("".join(out), "ABC/XYZ matrix")


def ltv_chart(summary: dict[str, Any], currency: str, locale: str) -> str:
    hist = summary.get("ltv_histogram") or {}
    counts, edges = hist.get("clients") or [], hist.get("edges_minor") or []
    top = max(counts or [0]) or 1
    bar_w = (W - 60) / max(len(counts), 1)
    out = [f'<line x1="40" y1="{H - 30}" x2="{W - 10}" y2="{H - 30}" stroke="#94a3b8"/>']
    for i, n in enumerate(counts):
        h = (H - 60) * n / top
        out.append(
            f'<rect class="mark" x="{40 + i * bar_w + 1}" y="{H - 30 - h}" width="{bar_w - 2}" '
            f'height="{max(h, 0.5)}" fill="#2563eb"><title>{n} clients from '
            f"{escape(display.money(edges[i], currency, locale=locale))}</title></rect>"
        )
    if edges:
        out.append(f'<text x="40" y="{H - 12}" font-size="11">0</text>')
        out.append(
            f'<text x="{W - 10}" y="{H - 12}" font-size="11" text-anchor="end">'
            f"{escape(display.money(edges[-1], currency, locale=locale))}</text>"
        )
    return _svg("".join(out), "LTV distribution")


def cohort_chart(summary: dict[str, Any], locale: str) -> str:
    curve = summary.get("cohort_curve") or []
    out = [
        f'<line x1="40" y1="{H - 30}" x2="{W - 10}" y2="{H - 30}" stroke="#94a3b8"/>',
        f'<line x1="40" y1="20" x2="40" y2="{H - 30}" stroke="#94a3b8"/>',
        '<text x="34" y="24" font-size="11" text-anchor="end">100%</text>',
    ]
    if curve:
        step = (W - 60) / max(len(curve) - 1, 1)
        points = [
            (40 + i * step, H - 30 - (H - 50) * float(share)) for i, share in enumerate(curve)
        ]
        out.append(
            '<polyline class="mark" fill="none" stroke="#059669" stroke-width="2" points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            + '"/>'
        )
        out += [
            f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#059669">'
            f"<title>month {i}: {escape(display.percent(curve[i], 0, locale=locale))}</title></circle>"
            for i, (x, y) in enumerate(points)
        ]
    return _svg("".join(out), "Cohort retention")


def rfm_chart(summary: dict[str, Any]) -> str:
    cells = {(c["r_score"], c["f_score"]): c["clients"] for c in summary.get("rfm_map", [])}
    top = max(cells.values() or [0])
    size, x0, y0 = 40, 80, 20
    out = ['<text x="20" y="130" font-size="11" transform="rotate(-90 20 130)">Recency</text>']
    for r in range(1, 6):
        y = y0 + (5 - r) * size
        out.append(
            f'<text x="70" y="{y + size / 2 + 4}" text-anchor="end" font-size="11">{r}</text>'
        )
        for f in range(1, 6):
            n = cells.get((r, f), 0)
            x = x0 + (f - 1) * size
            out.append(
                f'<rect class="mark" x="{x}" y="{y}" width="{size - 2}" height="{size - 2}" '
                f'fill="{_shade(n, top)}" stroke="#cbd5e1"><title>R{r} F{f}: {n}</title></rect>'
            )
    for f in range(1, 6):
        out.append(
            f'<text x="{x0 + (f - 1) * size + size / 2}" y="{y0 + 5 * size + 14}" '
            f'text-anchor="middle" font-size="11">{f}</text>'
        )
    out.append(f'<text x="{x0 + 100}" y="{y0 + 5 * size + 30}" font-size="11">Frequency</text>')
    return _svg("".join(out), "RFM map")


def render(currency: str, summary: dict[str, Any], computed_at: Any, locale: str) -> str:
    """The page: KPIs, the four charts and the tables, every figure formatted for `locale`."""
    charts = [
        ("abc-xyz", "ABC/XYZ matrix (clients)", matrix_chart(summary)),
        ("ltv", "LTV distribution (revenue LTV)", ltv_chart(summary, currency, locale)),
        (
            "cohorts",
            "Cohort retention (share still buying, by month since first order)",
            cohort_chart(summary, locale),
        ),
        ("rfm", "RFM map (clients by recency and frequency score)", rfm_chart(summary)),
    ]
    return PAGES.get_template("client_base.html").render(
        lang=locale.split("_")[0],
        locale=locale,
        currency=currency,
        computed_at=computed_at,
        s=summary,
        # drawn here from numbers, every text in it escaped
        charts=[{"id": i, "title": t, "svg": Markup(svg)} for i, t, svg in charts],  # noqa: S704
        dimensions=SEGMENT_TABLES,
    )


EMPTY = "<!doctype html><html><body><h1>Client base</h1><p>No recompute yet.</p></body></html>"


@router.get(
    "/reports/client-base",
    summary="The client-base report as an HTML page with charts",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}},
)
async def client_base_report(
    session: SessionDep,
    principal: allow(Role.SALES_MANAGER, Role.ADMIN),
    currency: CurrencyCode | None = None,
    accept_language: Annotated[
        str | None, Header(description="The reader's languages: numbers, money and dates")
    ] = None,
) -> HTMLResponse:
    rows, _ = await queries.summaries(session, currency, PageParams(limit=1))  # the first
    if not rows:
        return HTMLResponse(EMPTY)
    row = rows[0]
    locale = display.locale_of(accept_language)
    return HTMLResponse(render(row.currency, row.stats["summary"], row.computed_at, locale))
