"""Webhook calls: due deliveries go out in small concurrent batches, signed, each attempt
logged; a failure waits (exponential backoff with jitter) until the attempts run out, and a
subscriber without a success for long enough is paused and its admins told."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifications.clients import webhooks as calls
from services.notifications.domain import delivery, signing
from services.notifications.settings import Settings
from services.notifications.store import webhooks
from services.notifications.usecases.fan_out import fan_out_internal
from shared.clock import utcnow

log = logging.getLogger(__name__)


async def _call(
    http: httpx.AsyncClient, settings: Settings, d: dict[str, Any]
) -> tuple[int | None, str | None, int]:
    body = d["body"].encode()  # the stored CloudEvent as it is, signed as sent
    headers = signing.webhook_headers(
        d["secret"],
        body,
        event_id=str(d["event_id"]),
        event_type=d["event_type"],
        delivery_id=str(d["id"]),
        now=time.time(),
    )
    started = time.perf_counter()
    try:
        response = await http.post(d["url"], content=body, headers=headers)
        code, error = response.status_code, None
        if not 200 <= code < 300:
            error = calls.status_reason(code)
    except httpx.HTTPError as exc:
        code, error = None, calls.failure_reason(exc)
    return code, error, int((time.perf_counter() - started) * 1000)


async def send_webhooks(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    http: httpx.AsyncClient | None = None,
    now: datetime | None = None,
) -> int:
    """One batch of due webhook calls, concurrently (over `http`, or a client of its own);
    every attempt is logged."""
    now = now or utcnow()
    async with sessionmaker() as session, session.begin():
        batch = await webhooks.claim(session, now, webhook_batch(settings))
    if not batch:
        return 0
    # At most `webhook_concurrency` calls in flight: never more than the pool's connections,
    # so no request queues inside httpcore (its queue costs time quadratic in its length).
    gate = asyncio.Semaphore(settings.webhook_concurrency)

    async def call(
        http: httpx.AsyncClient, d: dict[str, Any]
    ) -> tuple[int | None, str | None, int]:
        async with gate:
            return await _call(http, settings, d)

    if http is None:
        async with calls.webhook_client(settings) as own:
            results = await asyncio.gather(*(call(own, d) for d in batch))
    else:
        results = await asyncio.gather(*(call(http, d) for d in batch))
    done = utcnow()
    attempts, ok_ids, ok_codes, failures = [], [], [], []
    ok_subs: set[uuid.UUID] = set()
    bad_subs: set[uuid.UUID] = set()
    for d, (code, error, ms) in zip(batch, results, strict=True):
        attempts.append(
            {
                "delivery_id": d["id"],
                "attempt": d["attempts"],
                "at": done,
                "status_code": code,
                "error": error,
                "duration_ms": ms,
            }
        )
        if code is not None and 200 <= code < 300:
            ok_ids.append(d["id"])
            ok_codes.append(code)
            ok_subs.add(d["subscription_id"])
            continue
        bad_subs.add(d["subscription_id"])
        give_up = d["attempts"] >= settings.webhook_max_attempts
        wait = delivery.retry_delay(
            d["attempts"],
            settings.webhook_backoff_base_seconds,
            settings.webhook_backoff_max_seconds,
        )
        failures.append(
            {
                "id": d["id"],
                "status": "failed" if give_up else "pending",
                "next_attempt_at": done + timedelta(seconds=wait),
                "code": code,
                "error": error,
            }
        )
    async with sessionmaker() as session, session.begin():
        await webhooks.record_attempts(session, attempts)
        await webhooks.mark_succeeded(session, ok_ids, done, ok_codes)
        await webhooks.mark_failed(session, failures)
        await webhooks.subscribers_succeeded(session, ok_subs - bad_subs)
        for sub in await webhooks.subscribers_failed(session, bad_subs - ok_subs, done):
            if sub["status"] == "active" and delivery.should_pause(
                sub["failing_since"], done, settings.webhook_pause_after_seconds
            ):
                await _pause(session, settings, sub, done)
    return len(batch)


async def _pause(
    session: AsyncSession, settings: Settings, sub: dict[str, Any], now: datetime
) -> None:
    if not await webhooks.pause(session, sub["id"], now):
        return
    log.warning(
        "webhook subscription %s paused after failing since %s", sub["id"], sub["failing_since"]
    )
    await fan_out_internal(
        session,
        settings,
        "notifications.webhook_paused.v1",
        f"{sub['id']}:{sub['failing_since'].isoformat()}",
        {
            "subscription_id": str(sub["id"]),
            "company_id": str(sub["company_id"]) if sub["company_id"] else None,
            "url": sub["url"],
            "failing_since": sub["failing_since"].isoformat(),
            "paused_at": now.isoformat(),
        },
    )


def webhook_batch(settings: Settings) -> int:
    """Small batches, several in flight (`webhook_senders`): a call waits for its own batch,
    not for the slowest of a large one."""
    return min(settings.delivery_batch, settings.webhook_concurrency * 4)
