"""The delivery workers: email over SMTP, signed webhooks, daily digests. Each takes due work in
batches with a lease (FOR UPDATE SKIP LOCKED), so several processes can run them side by side;
each is woken when the consumer commits new work and otherwise polls."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import aiosmtplib
import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications import outbound
from services.notifications.domain import delivery, signing, templates
from services.notifications.events import fan_out_internal
from services.notifications.settings import Settings
from services.notifications.store import messages, webhooks
from services.notifications.store.models import Message, Person
from shared.clock import utcnow

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


def _email(settings: Settings, m: Message) -> EmailMessage:
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = m.address or ""
    email["Subject"] = m.subject
    email["Message-ID"] = make_msgid(idstring=str(m.id))
    email["X-B2B-Message-Id"] = str(m.id)
    token = signing.link_token(
        settings.link_secret.get_secret_value(), "unsubscribe", u=str(m.recipient_id), k=m.kind
    )
    email["List-Unsubscribe"] = f"<{settings.public_url.rstrip('/')}/unsubscribe/{token}>"
    email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(m.body)
    return email


def _permanent(exc: Exception) -> bool:
    """The server refused this message for good (5xx), as opposed to being unreachable."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= r.code < 600 for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 500 <= exc.code < 600
    return False


async def send_emails(app: FastAPI, now: datetime | None = None) -> int:
    """One batch of due emails over one SMTP connection; returns how many were taken."""
    settings: Settings = app.state.settings
    now = now or utcnow()
    async with app.state.sessionmaker() as session, session.begin():
        await messages.deliver_due_inbox(session, now)
        batch = await messages.claim_emails(session, now, settings.delivery_batch)
    if not batch:
        return 0
    outcome: dict[uuid.UUID, tuple[str, str | None]] = {}
    smtp = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        timeout=settings.smtp_timeout_seconds,
        start_tls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
    )
    try:
        await smtp.connect()
    except Exception as exc:  # the server is down: the whole batch waits and tries again
        outcome = {m.id: ("retry", f"connect: {exc!r}"[:2000]) for m in batch}
    else:
        try:
            for m in batch:
                try:
                    await smtp.send_message(_email(settings, m))
                    outcome[m.id] = ("sent", None)
                except Exception as exc:
                    outcome[m.id] = ("failed" if _permanent(exc) else "retry", repr(exc)[:2000])
                    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
                        break
        finally:
            with contextlib.suppress(Exception):
                await smtp.quit()
        for m in batch:  # the connection dropped half way: the rest try again
            outcome.setdefault(m.id, ("retry", "connection lost"))
    done = utcnow()
    async with app.state.sessionmaker() as session, session.begin():
        for m in batch:
            verdict, error = outcome[m.id]
            values: dict[str, Any]
            if verdict == "sent":
                values = {"status": "sent", "sent_at": done, "last_error": None}
            elif verdict == "failed":
                values = {"status": "failed", "last_error": error}
            else:
                wait = delivery.retry_delay(m.attempts, 1.0, settings.email_retry_max_seconds)
                values = {"due_at": done + timedelta(seconds=wait), "last_error": error}
            await session.execute(
                Message.__table__.update().where(Message.id == m.id).values(**values)
            )
    return len(batch)


async def email_worker(app: FastAPI) -> None:
    await _loop(
        app, "email", send_emails, app.state.wake_messages, app.state.settings.delivery_poll_seconds
    )


# Digests --------------------------------------------------------------------------------------


async def send_digests(app: FastAPI, now: datetime | None = None) -> int:
    """Fold each recipient's held emails into one message (their daily digest, or what a
    throttled burst held back); the email worker sends it."""
    settings: Settings = app.state.settings
    now = now or utcnow()
    made = 0
    async with app.state.sessionmaker() as session, session.begin():
        for recipient_id in await messages.due_digests(session, now, settings.delivery_batch):
            held = await messages.take_digest(session, recipient_id, now)
            person = await session.get(Person, recipient_id)
            if not held or person is None:
                continue
            await _digest_message(session, settings, person, held, now)
            made += 1
    return made


async def _digest_message(
    session: AsyncSession, settings: Settings, person: Person, held: list[Message], now: datetime
) -> None:
    locale = held[-1].locale
    variants = await messages.templates_of(session, "digest")
    chosen = templates.pick_locale(locale, set(variants), settings.default_locale)
    items = [{"subject": m.subject, "body": m.body} for m in held]
    if chosen is None:
        subject, body = f"{len(held)} updates", "\n".join(f"* {m.subject}" for m in held)
    else:
        t = variants[chosen]
        rendered = templates.render(
            t.subject,
            t.body,
            {
                "count": len(held),
                "messages": items,
                "recipient": {"name": person.name, "email": person.email},
            },
            locale=chosen,
        )
        subject, body = rendered.subject, rendered.body
    for m in held:
        m.status = "digested"
    await messages.add_message(
        session,
        {
            "rule_code": "digest",
            "event_id": None,
            "event_type": "digest",
            "dedupe_key": str(held[0].id),
            "recipient_id": person.user_id,
            "company_id": held[0].company_id if len({m.company_id for m in held}) == 1 else None,
            "channel": "email",
            "kind": "system",
            "locale": chosen or locale,
            "address": person.email,
            "subject": subject,
            "body": body,
            "status": "pending",
            "due_at": utcnow(),
        },
    )


async def digest_worker(app: FastAPI) -> None:
    # digests fall due by the clock (a daily hour, a throttle window): no need to hurry
    await _loop(app, "digest", send_digests, asyncio.Event(), DIGEST_POLL_SECONDS)


# Webhooks -------------------------------------------------------------------------------------


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
            error = outbound.status_reason(code)
    except httpx.HTTPError as exc:
        code, error = None, outbound.failure_reason(exc)
    return code, error, int((time.perf_counter() - started) * 1000)


async def send_webhooks(app: FastAPI, now: datetime | None = None) -> int:
    """One batch of due webhook calls, concurrently; every attempt is logged."""
    settings: Settings = app.state.settings
    now = now or utcnow()
    async with app.state.sessionmaker() as session, session.begin():
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

    http: httpx.AsyncClient | None = getattr(app.state, "webhook_http", None)
    if http is None:
        async with outbound.webhook_client(settings) as own:
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
    async with app.state.sessionmaker() as session, session.begin():
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


async def webhook_worker(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    async with outbound.webhook_client(
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
                    full=webhook_batch(settings),
                )
                for _ in range(settings.webhook_senders)
            )
        )
