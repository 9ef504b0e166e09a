"""Emails: due ones go out in batches over one SMTP connection (a server that is down only
delays them; a permanent refusal fails the message), and what a person's digest mode or a
throttled burst held back is folded into one message."""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifications.clients.smtp import permanent, smtp_client
from services.notifications.domain import delivery, signing, templates
from services.notifications.settings import Settings
from services.notifications.store import messages
from services.notifications.store.models import Message, Person
from shared.clock import utcnow


def email(settings: Settings, m: Message) -> EmailMessage:
    """The message as an email with a one-click unsubscribe (RFC 8058) and our message id."""
    mail = EmailMessage()
    mail["From"] = settings.mail_from
    mail["To"] = m.address or ""
    mail["Subject"] = m.subject
    mail["Message-ID"] = make_msgid(idstring=str(m.id))
    mail["X-B2B-Message-Id"] = str(m.id)
    token = signing.link_token(
        settings.link_secret.get_secret_value(), "unsubscribe", u=str(m.recipient_id), k=m.kind
    )
    mail["List-Unsubscribe"] = f"<{settings.public_url.rstrip('/')}/unsubscribe/{token}>"
    mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(m.body)
    return mail


async def send_emails(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime | None = None
) -> int:
    """One batch of due emails over one SMTP connection; returns how many were taken."""
    now = now or utcnow()
    async with sessionmaker() as session, session.begin():
        await messages.deliver_due_inbox(session, now)
        batch = await messages.claim_emails(session, now, settings.delivery_batch)
    if not batch:
        return 0
    outcome: dict[uuid.UUID, tuple[str, str | None]] = {}
    smtp = smtp_client(settings)
    try:
        await smtp.connect()
    except Exception as exc:  # the server is down: the whole batch waits and tries again
        outcome = {m.id: ("retry", f"connect: {exc!r}"[:2000]) for m in batch}
    else:
        try:
            for m in batch:
                try:
                    await smtp.send_message(email(settings, m))
                    outcome[m.id] = ("sent", None)
                except Exception as exc:
                    outcome[m.id] = ("failed" if permanent(exc) else "retry", repr(exc)[:2000])
                    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
                        break
        finally:
            with contextlib.suppress(Exception):
                await smtp.quit()
        for m in batch:  # the connection dropped half way: the rest try again
            outcome.setdefault(m.id, ("retry", "connection lost"))
    done = utcnow()
    async with sessionmaker() as session, session.begin():
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
            await messages.mark_email(session, m.id, values)
    return len(batch)


async def send_digests(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime | None = None
) -> int:
    """Fold each recipient's held emails into one message (their daily digest, or what a
    throttled burst held back); the email worker sends it."""
    now = now or utcnow()
    made = 0
    async with sessionmaker() as session, session.begin():
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
