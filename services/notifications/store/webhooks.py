"""Queries on webhook subscriptions, their deliveries and the log of attempts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

LEASE = timedelta(minutes=2)


async def enqueue_many(session: AsyncSession, events: list[dict[str, Any]]) -> int:
    """One delivery per event and subscription that wants it (its event type, and the event's
    company or every company), in one statement. `events`: event_id, event_type, company_id,
    payload. A redelivered event adds nothing (unique subscription + event)."""
    conn = await session.connection()  # Core on the hot path: no ORM layer per event
    result = await conn.execute(
        text(
            """
            INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_type, payload)
            SELECT gen_random_uuid(), s.id, e.event_id, e.event_type, CAST(e.payload AS jsonb)
            FROM unnest(CAST(:ids AS uuid[]), CAST(:types AS varchar[]),
                        CAST(:companies AS uuid[]), CAST(:payloads AS text[]))
                 AS e(event_id, event_type, company_id, payload)
            JOIN webhook_subscriptions s
              ON (e.event_type = ANY(s.event_types) OR '*' = ANY(s.event_types))
             AND (s.company_id IS NULL OR s.company_id = e.company_id)
            ON CONFLICT (subscription_id, event_id) DO NOTHING
            """
        ),
        {
            "ids": [e["event_id"] for e in events],
            "types": [e["event_type"] for e in events],
            "companies": [e["company_id"] for e in events],
            "payloads": [orjson.dumps(e["payload"]).decode() for e in events],
        },
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def claim(session: AsyncSession, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Due deliveries of active subscribers, leased to this worker for a while."""
    rows = await session.execute(
        text(
            """
            WITH due AS (
                SELECT d.id FROM webhook_deliveries d
                JOIN webhook_subscriptions s ON s.id = d.subscription_id
                WHERE d.status = 'pending' AND d.next_attempt_at <= :now AND s.status = 'active'
                ORDER BY d.next_attempt_at
                LIMIT :limit
                FOR UPDATE OF d SKIP LOCKED
            )
            UPDATE webhook_deliveries d SET next_attempt_at = :lease, attempts = d.attempts + 1
            FROM due, webhook_subscriptions s
            WHERE d.id = due.id AND s.id = d.subscription_id
            RETURNING d.id, d.subscription_id, d.event_id, d.event_type,
                      CAST(d.payload AS text) AS body, d.attempts,
                      s.url, s.secret, s.company_id, s.failing_since
            """
        ),
        {"now": now, "limit": limit, "lease": now + LEASE},
    )
    return [dict(r._mapping) for r in rows]


async def record_attempts(session: AsyncSession, attempts: list[dict[str, Any]]) -> None:
    if not attempts:
        return
    conn = await session.connection()
    await conn.execute(
        text(
            """
            INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms)
            SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:attempts AS int[]),
                                 CAST(:ats AS timestamptz[]), CAST(:codes AS int[]),
                                 CAST(:errors AS text[]), CAST(:ms AS int[]))
            """
        ),
        {
            "ids": [a["delivery_id"] for a in attempts],
            "attempts": [a["attempt"] for a in attempts],
            "ats": [a["at"] for a in attempts],
            "codes": [a["status_code"] for a in attempts],
            "errors": [a["error"] for a in attempts],
            "ms": [a["duration_ms"] for a in attempts],
        },
    )


async def mark_succeeded(
    session: AsyncSession, ids: list[uuid.UUID], now: datetime, codes: list[int]
) -> None:
    if not ids:
        return
    await session.execute(
        text(
            """
            UPDATE webhook_deliveries d SET status = 'succeeded', delivered_at = :now,
                   last_status_code = v.code, last_error = NULL
            FROM unnest(CAST(:ids AS uuid[]), CAST(:codes AS int[])) AS v(id, code)
            WHERE d.id = v.id
            """
        ),
        {"ids": ids, "codes": codes, "now": now},
    )


async def mark_failed(session: AsyncSession, failures: list[dict[str, Any]]) -> None:
    """failures: id, status ('pending' to retry or 'failed' to give up), next_attempt_at,
    code, error."""
    if not failures:
        return
    await session.execute(
        text(
            """
            UPDATE webhook_deliveries SET status = :status, next_attempt_at = :next_attempt_at,
                   last_status_code = :code, last_error = :error
            WHERE id = :id
            """
        ),
        failures,
    )


async def subscribers_succeeded(session: AsyncSession, ids: set[uuid.UUID]) -> None:
    if ids:
        await session.execute(
            text(
                "UPDATE webhook_subscriptions SET failing_since = NULL "
                "WHERE id = ANY(CAST(:ids AS uuid[])) AND failing_since IS NOT NULL"
            ),
            {"ids": list(ids)},
        )


async def subscribers_failed(
    session: AsyncSession, ids: set[uuid.UUID], now: datetime
) -> list[dict[str, Any]]:
    """Start the failing clock of subscribers that were fine; their state after."""
    if not ids:
        return []
    rows = await session.execute(
        text(
            """
            UPDATE webhook_subscriptions SET failing_since = COALESCE(failing_since, :now)
            WHERE id = ANY(CAST(:ids AS uuid[]))
            RETURNING id, company_id, url, status, failing_since
            """
        ),
        {"ids": list(ids), "now": now},
    )
    return [dict(r._mapping) for r in rows]


async def pause(session: AsyncSession, subscription_id: uuid.UUID, now: datetime) -> bool:
    result = await session.execute(
        text(
            "UPDATE webhook_subscriptions SET status = 'paused', paused_at = :now "
            "WHERE id = :id AND status = 'active'"
        ),
        {"id": subscription_id, "now": now},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
