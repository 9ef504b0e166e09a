"""Reading the facts into polars and writing the segments back, set-based.

Large reads go through COPY ... TO STDOUT (CSV) straight into polars; the new segments come
back through COPY into a temporary table, and the segment-change events are written by SQL
into the outbox from the difference between old and new rows, in the same transaction.
"""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta
from typing import Any

import orjson
import polars as pl
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.domain.facts import (
    CLIENTS_SCHEMA,
    DAYS_PER_MONTH,
    FEEDBACK_SCHEMA,
    ORDERS_SCHEMA,
    SEGMENT_DIMENSIONS,
    Facts,
)
from services.analytics.domain.rows import SEGMENT_COLUMNS
from shared.clock import utcnow
from shared.contracts.analytics import (
    ClientChurnRiskRaisedV1,
    ClientConcentrationAlertV1,
    ClientSegmentChangedV1,
)
from shared.events.outbox import record_events_from_query

LOCK = "SELECT pg_advisory_xact_lock(hashtext('analytics.segments'))"
ORDERS_SQL = """
    SELECT client_id, currency, placed_at, total_minor, costed_minor, cost_minor,
           delivered_at IS NOT NULL AS delivered, on_time, in_full
    FROM order_facts WHERE counted AND placed_at > {since}
"""
CLIENTS_SQL = """
    SELECT id AS client_id, currency, purchase_potential_minor, overdue_minor FROM clients
"""
FEEDBACK_SQL = "SELECT client_id, touchpoint, nps, csat FROM feedback"
SKU_MONTHS_SQL = "SELECT sku, currency, month, revenue_minor, quantity FROM sku_month_facts"
# The SKUs' revenue in the ABC window, from the lines: the months' sums cannot cut a window of
# days (the clients' ABC window).
SKU_REVENUE_SQL = """
    SELECT l.sku, o.currency, sum(l.revenue_minor) AS revenue_minor
    FROM order_line_facts l JOIN order_facts o ON o.order_id = l.order_id
    WHERE o.counted AND l.placed_at > {since} AND l.placed_at <= {as_of}
    GROUP BY l.sku, o.currency
"""
SKU_REVENUE_SCHEMA = {"sku": pl.String, "currency": pl.String, "revenue_minor": pl.Int64}
SKU_MONTHS_SCHEMA = {
    "sku": pl.String,
    "currency": pl.String,
    "month": pl.Date,
    "revenue_minor": pl.Int64,
    "quantity": pl.Float64,
}


async def _raw(session: AsyncSession) -> Any:
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    return raw.driver_connection


async def read_frame(
    session: AsyncSession, query: str, schema: dict[str, Any], **params: Any
) -> pl.DataFrame:
    """A query's rows as a polars frame, through COPY (CSV): no Python object per row."""
    raw = await _raw(session)
    for name, value in params.items():
        query = query.replace("{" + name + "}", value)
    buffer = io.BytesIO()
    await raw.copy_from_query(query, output=buffer, format="csv", header=True)
    buffer.seek(0)
    frame = pl.read_csv(
        buffer,
        schema_overrides={
            k: pl.String if v in (pl.Datetime("us", "UTC"), pl.Boolean) else v
            for k, v in schema.items()
        },
        try_parse_dates=False,
    )
    casts = []
    for name, dtype in schema.items():
        if dtype == pl.Datetime("us", "UTC"):
            casts.append(
                pl.col(name)
                .str.to_datetime("%Y-%m-%d %H:%M:%S%.f%#z", time_unit="us")
                .dt.convert_time_zone("UTC")
            )
        elif dtype == pl.Boolean:
            casts.append(pl.col(name) == "t")
    if casts and frame.height:
        frame = frame.with_columns(casts)
    return frame.select([pl.col(n).cast(t) for n, t in schema.items()])


def _since(as_of: datetime, months: int) -> str:
    return "'" + (as_of - timedelta(days=months * DAYS_PER_MONTH)).isoformat() + "'::timestamptz"


async def load_facts(
    session: AsyncSession,
    as_of: datetime,
    months: int,
    client_ids: list[uuid.UUID] | None = None,
) -> Facts:
    """The facts of every client, or of `client_ids` only."""
    since = _since(as_of, months)
    ids = (
        "'{" + ",".join(str(uuid.UUID(str(c))) for c in client_ids) + "}'::uuid[]"
        if client_ids is not None
        else ""
    )
    orders = await read_frame(
        session,
        ORDERS_SQL + (f" AND client_id = ANY({ids})" if ids else ""),
        ORDERS_SCHEMA,
        since=since,
    )
    clients = await read_frame(
        session, CLIENTS_SQL + (f" WHERE id = ANY({ids})" if ids else ""), CLIENTS_SCHEMA
    )
    feedback = await read_frame(
        session, FEEDBACK_SQL + (f" WHERE client_id = ANY({ids})" if ids else ""), FEEDBACK_SCHEMA
    )
    return Facts(orders.lazy(), clients.lazy(), feedback.lazy())


async def load_sku_months(session: AsyncSession) -> pl.LazyFrame:
    return (await read_frame(session, SKU_MONTHS_SQL, SKU_MONTHS_SCHEMA)).lazy()


async def load_sku_revenue(session: AsyncSession, as_of: datetime, months: int) -> pl.LazyFrame:
    """Per SKU and currency, the revenue of counted orders in the last `months` (x 30.4375
    days) up to `as_of`."""
    frame = await read_frame(
        session,
        SKU_REVENUE_SQL,
        SKU_REVENUE_SCHEMA,
        since=_since(as_of, months),
        as_of=f"'{as_of.isoformat()}'::timestamptz",
    )
    return frame.lazy()


async def lock(session: AsyncSession) -> None:
    """Recomputes take turns, so a full one never overwrites a newer event's result."""
    await session.execute(text(LOCK))


async def stored_bases(session: AsyncSession) -> pl.DataFrame | None:
    """The base statistics of the last full recompute, one row per currency."""
    rows = (await session.execute(text("SELECT stats FROM base_stats"))).scalars().all()
    bases = [row["base"] for row in rows if row.get("base")]
    return pl.DataFrame(bases, infer_schema_length=None) if bases else None


# Per currency, the sales in the ABC window and the buyers of every client but `ids`, as last
# recomputed: with a batch's new figures, the base as it is now.
OTHERS_SQL = """
    SELECT currency, coalesce(sum((metrics->>'abc_revenue_minor')::bigint), 0) AS sales_minor,
           count(*) FILTER (WHERE (metrics->>'orders')::int > 0) AS buyers
    FROM client_segments WHERE client_id <> ALL(CAST(:ids AS uuid[])) GROUP BY currency
"""


async def others_in_base(session: AsyncSession, client_ids: list[uuid.UUID]) -> pl.DataFrame:
    rows = (await session.execute(text(OTHERS_SQL), {"ids": client_ids})).all()
    return pl.DataFrame(
        [tuple(r) for r in rows],
        schema={"currency": pl.String, "sales_minor": pl.Int64, "buyers": pl.Int64},
        orient="row",
    )


async def mark_dirty(session: AsyncSession, client_id: uuid.UUID) -> None:
    """The client's facts changed: its segments are recomputed by the next batch."""
    await session.execute(
        text(
            "INSERT INTO dirty_clients (client_id, since) VALUES (:id, :now) ON CONFLICT DO NOTHING"
        ),
        {"id": client_id, "now": utcnow()},
    )


async def take_dirty(session: AsyncSession, limit: int) -> list[uuid.UUID]:
    rows = await session.execute(
        text(
            "DELETE FROM dirty_clients WHERE client_id IN (SELECT client_id FROM dirty_clients "
            "ORDER BY since, client_id LIMIT :n FOR UPDATE SKIP LOCKED) RETURNING client_id"
        ),
        {"n": limit},
    )
    return [r[0] for r in rows.all()]


async def save_base(
    session: AsyncSession, base: pl.DataFrame, summary: dict[str, dict[str, Any]], as_of: datetime
) -> None:
    for row in base.to_dicts():
        currency = row["currency"]
        stats = {"base": row, "summary": summary.get(currency, {})}
        await session.execute(
            text(
                "INSERT INTO base_stats (currency, stats, computed_at) "
                "VALUES (:c, CAST(:s AS jsonb), :t) ON CONFLICT (currency) DO UPDATE "
                "SET stats = EXCLUDED.stats, computed_at = EXCLUDED.computed_at"
            ),
            {"c": currency, "s": orjson.dumps(stats, default=str).decode(), "t": as_of},
        )


async def save_sku_segments(session: AsyncSession, skus: pl.DataFrame, as_of: datetime) -> None:
    raw = await _raw(session)
    await session.execute(text("DELETE FROM sku_segments"))
    if skus.height:
        buffer = io.BytesIO()
        skus.with_columns(computed_at=pl.lit(as_of)).write_csv(buffer)
        buffer.seek(0)
        await raw.copy_to_table(
            "sku_segments",
            source=buffer,
            format="csv",
            header=True,
            columns=[*skus.columns, "computed_at"],
        )


_CHANGES = ", ".join(f"('{d}', o.{d}::text, n.{d}::text)" for d in SEGMENT_DIMENSIONS)
_DIFFERS = (
    "("
    + ", ".join(f"o.{d}" for d in SEGMENT_DIMENSIONS)
    + ") IS DISTINCT FROM ("
    + ", ".join(f"n.{d}" for d in SEGMENT_DIMENSIONS)
    + ")"
)
SEGMENT_CHANGED_DATA = f"""
    SELECT n.client_id AS aggregate_id, jsonb_build_object(
        'client_id', n.client_id,
        'changes', (SELECT jsonb_agg(jsonb_build_object(
                        'dimension', v.dimension, 'previous', v.previous, 'current', v.current))
                    FROM (VALUES {_CHANGES}) AS v(dimension, previous, current)
                    WHERE v.previous IS DISTINCT FROM v.current),
        'changed_at', n.computed_at) AS data
    FROM segments_new n LEFT JOIN client_segments o ON o.client_id = n.client_id
    WHERE {_DIFFERS}
"""
CHURN_RAISED_DATA = """
    SELECT n.client_id AS aggregate_id, jsonb_build_object(
        'client_id', n.client_id, 'score', n.churn_score,
        'reason', n.metrics->>'churn_reason',
        'days_since_last_order', (n.metrics->>'days_since_last_order')::int,
        'usual_gap_days', round((n.metrics->>'usual_gap_days')::numeric)::int,
        'sales_manager_id', c.sales_manager_id,
        'key_account', n.concentration IS NOT NULL
            OR EXISTS (SELECT 1 FROM key_account_marks k WHERE k.client_id = n.client_id),
        'raised_at', n.computed_at) AS data
    FROM segments_new n
    LEFT JOIN client_segments o ON o.client_id = n.client_id
    LEFT JOIN clients c ON c.id = n.client_id
    WHERE n.churn_raised AND NOT coalesce(o.churn_raised, false)
"""
# A level is passed when the new one is above the one stored: rises only, once per level.
CONCENTRATION_ALERT_DATA = """
    SELECT n.client_id AS aggregate_id, jsonb_build_object(
        'client_id', n.client_id, 'currency', n.currency,
        'level', (n.metrics->>'concentration_level')::float8,
        'previous_level', (o.metrics->>'concentration_level')::float8,
        'share', (n.metrics->>'sales_share')::float8,
        'sales_manager_id', c.sales_manager_id,
        'raised_at', n.computed_at) AS data
    FROM segments_new n
    LEFT JOIN client_segments o ON o.client_id = n.client_id
    LEFT JOIN clients c ON c.id = n.client_id
    WHERE (n.metrics->>'concentration_level')::float8
          > coalesce((o.metrics->>'concentration_level')::float8, 0)
"""


async def replace_segments(session: AsyncSession, rows: pl.DataFrame) -> dict[str, int]:
    """Store the new segments; one outbox event per client whose segments changed and per
    client whose churn risk was raised. Returns the counts."""
    await session.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS segments_new "
            "(LIKE client_segments INCLUDING DEFAULTS) ON COMMIT DROP"
        )
    )
    await session.execute(text("TRUNCATE segments_new"))
    raw = await _raw(session)
    buffer = io.BytesIO()
    rows.write_csv(buffer)
    buffer.seek(0)
    await raw.copy_to_table(
        "segments_new", source=buffer, format="csv", header=True, columns=list(SEGMENT_COLUMNS)
    )
    changed = await record_events_from_query(session, ClientSegmentChangedV1, SEGMENT_CHANGED_DATA)
    raised = await record_events_from_query(session, ClientChurnRiskRaisedV1, CHURN_RAISED_DATA)
    alerts = await record_events_from_query(
        session, ClientConcentrationAlertV1, CONCENTRATION_ALERT_DATA
    )
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in SEGMENT_COLUMNS if c != "client_id")
    columns = ", ".join(SEGMENT_COLUMNS)
    await session.execute(
        text(
            f"INSERT INTO client_segments ({columns}) SELECT {columns} FROM segments_new "
            f"ON CONFLICT (client_id) DO UPDATE SET {assignments}"
        )
    )
    return {
        "clients": rows.height,
        "segment_changed": changed,
        "churn_risk_raised": raised,
        "concentration_alert": alerts,
    }
