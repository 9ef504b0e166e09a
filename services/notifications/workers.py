"""Every background loop of notifications: the email, digest and webhook workers (the flows
are in `usecases/emails.py` and `usecases/webhook_calls.py`). Each step takes due work in
batches with a lease (FOR UPDATE SKIP LOCKED), so several processes can run them side by side;
each loop is woken when the consumer commits new work and otherwise polls."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from fastapi import FastAPI

from services.notifications.clients.webhooks import webhook_client
from services.notifications.settings import Settings
from services.notifications.usecases import emails, webhook_calls
from shared.workers import periodic

log = logging.getLogger(__name__)
DIGEST_POLL_SECONDS = 15.0


# Email ----------------------------------------------------------------------------------------


async def send_emails(app: FastAPI, now: datetime | None = None) -> int:
    return await emails.send_emails(app.state.sessionmaker, app.state.settings, now)


async def _emails_filled_a_batch(app: FastAPI) -> bool:
    return await send_emails(app) >= app.state.settings.delivery_batch


email_worker = periodic(
    _emails_filled_a_batch, every="delivery_poll_seconds", wake="wake_messages", name="email"
)


# Digests --------------------------------------------------------------------------------------


async def send_digests(app: FastAPI, now: datetime | None = None) -> int:
    return await emails.send_digests(app.state.sessionmaker, app.state.settings, now)


# digests fall due by the clock (a daily hour, a throttle window): no need to hurry
digest_worker = periodic(send_digests, every=DIGEST_POLL_SECONDS, name="digest")


# Webhooks -------------------------------------------------------------------------------------


async def send_webhooks(app: FastAPI, now: datetime | None = None) -> int:
    http = getattr(app.state, "webhook_http", None)
    return await webhook_calls.send_webhooks(app.state.sessionmaker, app.state.settings, http, now)


async def _webhooks_filled_a_batch(app: FastAPI) -> bool:
    return await send_webhooks(app) >= webhook_calls.webhook_batch(app.state.settings)


_webhook_sender = periodic(
    _webhooks_filled_a_batch, every="delivery_poll_seconds", wake="wake_webhooks", name="webhook"
)


async def webhook_worker(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    async with webhook_client(
        settings, settings.webhook_concurrency * settings.webhook_senders
    ) as http:
        app.state.webhook_http = http
        await asyncio.gather(*(_webhook_sender(app) for _ in range(settings.webhook_senders)))
