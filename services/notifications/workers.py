"""Every background loop of notifications: the email, digest and webhook workers (the flows
are in `usecases/emails.py` and `usecases/webhook_calls.py`). Each step takes due work in
batches with a lease (FOR UPDATE SKIP LOCKED), so several processes can run them side by side;
each loop is woken when the consumer commits new work and otherwise polls."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from fastapi import FastAPI

from services.notifications.clients.webhooks import webhook_client
from services.notifications.domain import delivery
from services.notifications.settings import Settings
from services.notifications.usecases import emails, webhook_calls

log = logging.getLogger(__name__)
COALESCE_SECONDS = 0.02
DIGEST_POLL_SECONDS = 15.0


async def _loop(
    app: FastAPI,
    name: str,
    step: Callable[[FastAPI], Awaitable[int]],
    wake: asyncio.Event,
    poll_seconds: float,
    *,
    full: int | None = None,
) -> None:
    """Run `step` until cancelled; a step that took a full batch runs again at once."""
    settings: Settings = app.state.settings
    full = full or settings.delivery_batch
    failures = 0
    while True:
        try:
            done = await step(app)
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            delay = delivery.retry_delay(failures, 0.5, 30.0)
            log.warning("%s worker failed; again in %.1fs", name, delay, exc_info=True)
            await asyncio.sleep(delay)
            continue
        if done < full:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), poll_seconds)
            # gather what else arrives meanwhile into one batch before taking work again
            await asyncio.sleep(COALESCE_SECONDS)
            wake.clear()


# Email ----------------------------------------------------------------------------------------


async def send_emails(app: FastAPI, now: datetime | None = None) -> int:
    return await emails.send_emails(app.state.sessionmaker, app.state.settings, now)


async def email_worker(app: FastAPI) -> None:
    await _loop(
        app, "email", send_emails, app.state.wake_messages, app.state.settings.delivery_poll_seconds
    )


# Digests --------------------------------------------------------------------------------------


async def send_digests(app: FastAPI, now: datetime | None = None) -> int:
    return await emails.send_digests(app.state.sessionmaker, app.state.settings, now)


async def digest_worker(app: FastAPI) -> None:
    # digests fall due by the clock (a daily hour, a throttle window): no need to hurry
    await _loop(app, "digest", send_digests, asyncio.Event(), DIGEST_POLL_SECONDS)


# Webhooks -------------------------------------------------------------------------------------


async def send_webhooks(app: FastAPI, now: datetime | None = None) -> int:
    http = getattr(app.state, "webhook_http", None)
    return await webhook_calls.send_webhooks(app.state.sessionmaker, app.state.settings, http, now)


async def webhook_worker(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    async with webhook_client(
        settings, settings.webhook_concurrency * settings.webhook_senders
    ) as http:
        app.state.webhook_http = http
        await asyncio.gather(
            *(
                _loop(
                    app,
                    "webhook",
                    send_webhooks,
                    app.state.wake_webhooks,
                    settings.delivery_poll_seconds,
                    full=webhook_calls.webhook_batch(settings),
                )
                for _ in range(settings.webhook_senders)
            )
        )
