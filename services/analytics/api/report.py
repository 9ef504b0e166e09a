"""`GET /reports/client-base`: an HTML page people can look at, with the charts drawn as inline
SVG on the server (ABC/XYZ heatmap, LTV distribution, cohort retention curve, RFM map) from the
same summary the API serves. No JavaScript is needed to draw them; a few lines mark each chart
as drawn once the browser has laid it out (what the browser test checks)."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.analytics.store import queries
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.fields import CurrencyCode

router = APIRouter(tags=["reports"])
W, H = 420, 260
STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#1f2937}
h1{font-size:22px}h2{font-size:16px;margin:0 0 8px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:20px}
figure{margin:0;padding:12px;border:1px solid #e5e7eb;border-radius:8px}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}
th:first-child,td:first-child{text-align:left}.kpi{display:flex;gap:24px;margin:12px 0 20px}
.kpi div{font-size:13px}.kpi b{display:block;font-size:20px}
"""
MARK_DRAWN = """
window.addEventListener('load', function () {
  document.querySelectorAll('figure.chart').forEach(function (fig) {
    var svg = fig.querySelector('svg'); if (!svg) return;
    var marks = Array.prototype.filter.call(svg.querySelectorAll('rect.mark,polyline.mark,circle.mark'),
      function (el) { var b = el.getBBox(); return b.width > 0 || b.height > 0; });
    var box = svg.getBoundingClientRect();
    fig.setAttribute('data-drawn', String(marks.length));
    fig.setAttribute('data-size', Math.round(box.width) + 'x' + Math.round(box.height));
  });
});
"""


def _money(minor: int | float | None, currency: str) -> str:
    if minor is None:
        return "-"
    return f"{minor / 100:,.0f} {currency}"


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


def ltv_chart(summary: dict[str, Any], currency: str) -> str:
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
            f"{escape(_money(edges[i], currency))}</title></rect>"
        )
    if edges:
        out.append(f'<text x="40" y="{H - 12}" font-size="11">0</text>')
        out.append(
            f'<text x="{W - 10}" y="{H - 12}" font-size="11" text-anchor="end">'
            f"{escape(_money(edges[-1], currency))}</text>"
        )
    return _svg("".join(out), "LTV distribution")


def cohort_chart(summary: dict[str, Any]) -> str:
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
            f"<title>month {i}: {curve[i] * 100:.0f}%</title></circle>"
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


def _table(title: str, rows: list[tuple[Any, ...]], head: tuple[str, ...]) -> str:
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    heads = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f"<figure><h2>{escape(title)}</h2><table><tr>{heads}</tr>{body}</table></figure>"


def render(currency: str, summary: dict[str, Any], computed_at: str) -> str:
    def fig(chart_id: str, title: str, svg: str) -> str:
        return f'<figure class="chart" id="{chart_id}"><h2>{escape(title)}</h2>{svg}</figure>'

    kpis = [
        ("Clients", summary.get("clients")),
        ("Buying", summary.get("buyers")),
        ("Active (RFM window)", summary.get("active")),
        ("Revenue (ABC window)", _money(summary.get("revenue_minor"), currency)),
        ("Churn risk raised", summary.get("churn_raised")),
        ("Penetration", summary.get("penetration")),
        ("Top-10 share", summary.get("top10_share")),
    ]
    segments = [
        (dim, name, n)
        for dim in ("rfm_segment", "ladder", "regularity", "check_tier", "payment_behaviour")
        for name, n in (summary.get(dim) or {}).items()
    ]
    crr = [
        (r["starts"], r["start"], r["active"], r["new"], r["crr"])
        for r in summary.get("retention", [])
    ]
    nps = [
        (
            s["touchpoint"],
            s["nps"],
            s["csat"],
            s["answers"],
            s["correlation_with_ltv"],
            s["correlation_with_churn"],
        )
        for s in summary.get("satisfaction", [])
    ]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Client base ({escape(currency)})</title>
<style>{STYLE}</style></head><body>
<h1>Client base, {escape(currency)}</h1><p>Computed {escape(computed_at)}</p>
<div class="kpi">{"".join(f"<div>{escape(k)}<b>{escape(str(v))}</b></div>" for k, v in kpis)}</div>
<div class="grid">
{fig("abc-xyz", "ABC/XYZ matrix (clients)", matrix_chart(summary))}
{fig("ltv", "LTV distribution (revenue LTV)", ltv_chart(summary, currency))}
{fig("cohorts", "Cohort retention (share still buying, by month since first order)", cohort_chart(summary))}
{fig("rfm", "RFM map (clients by recency and frequency score)", rfm_chart(summary))}
{_table("Retention rate per period", crr, ("period from", "S", "E", "N", "CRR %"))}
{_table("Segments", segments, ("dimension", "segment", "clients"))}
{_table("Satisfaction per touchpoint", nps, ("touchpoint", "NPS", "CSAT %", "answers", "corr. LTV", "corr. churn"))}
</div><script>{MARK_DRAWN}</script></body></html>"""


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
) -> HTMLResponse:
    rows = await queries.summaries(session, currency)
    if not rows:
        return HTMLResponse(EMPTY)
    row = rows[0]
    return HTMLResponse(render(row.currency, row.stats["summary"], row.computed_at.isoformat()))
