"""What notifications consumes and what it makes of each event.

Every event of every topic goes through `fan_out`, in the consumer's transaction with the inbox
row: projections (companies, people, segments) are updated, messages a later event makes moot
are cancelled, webhook deliveries are queued for the subscribers that want the event, and each
enabled rule that matches creates at most one message per recipient (unique rule, recipient,
dedupe key — the event id unless the rule says otherwise). Nothing is sent here: the delivery
workers send what this committed, so a crash or an SMTP outage delays messages, never loses them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifications.domain import delivery, rules, signing, templates
from services.notifications.settings import Settings
from services.notifications.store import directory, messages, webhooks
from services.notifications.store.models import Company
from shared.contracts import all_topics
from shared.db import utcnow
from shared.events.consumer import EventConsumer, Handler, Outcome
from shared.events.envelope import CloudEvent, EventContract, contract_for
from shared.events.kafka import Publisher
from shared.events.outbox import InboxEntry

log = logging.getLogger(__name__)

# analytics publishes client.segment_changed.v1 and client.churn_risk_raised.v1 here; the rules
# read them as plain payloads, so they work before (and without importing) its contract module.
ANALYTICS_TOPIC = "analytics.client"
CONSUMER_NAME = "notifications.notifications"
INTERNAL_PREFIX = "notifications."

# The kernel's per-contract consumers are not used: one generic consumer takes every event.
CONSUMERS: dict[str, dict[type[EventContract], Handler]] = {}


def topics() -> set[str]:
    return all_topics() | {ANALYTICS_TOPIC}


def _company_context(company: Company | None) -> dict[str, Any]:
    if company is None:
        return {}
    return {
        "id": str(company.id),
        "legal_name": company.legal_name,
        "client_group": company.client_group,
        "status": company.status,
        "sales_manager_id": str(company.sales_manager_id) if company.sales_manager_id else None,
        "locale": company.locale,
    }


def _links(
    settings: Settings, recipient: directory.Recipient, kind: str, data: dict[str, Any]
) -> dict[str, str]:
    secret = settings.link_secret.get_secret_value()
    base = settings.public_url.rstrip("/")
    links = {
        "portal": settings.portal_url.rstrip("/"),
        "unsubscribe": f"{base}/unsubscribe/"
        + signing.link_token(secret, "unsubscribe", u=str(recipient.user_id), k=kind),
    }
    company_id = rules.event_company(data)
    if "order_id" in data and company_id is not None:
        links["survey"] = f"{base}/surveys/" + signing.link_token(
            secret,
            "survey",
            u=str(recipient.user_id),
            c=str(company_id),
            s=f"order={data['order_id']}",
            t="delivery",
        )
    return links


def _quiet(settings: Settings, r: directory.Recipient) -> delivery.QuietHours | None:
    if r.quiet_from is None or r.quiet_to is None:
        return None
    return delivery.QuietHours(r.quiet_from, r.quiet_to, r.timezone or settings.default_timezone)


async def fan_out(
    session: AsyncSession,
    settings: Settings,
    event_id: uuid.UUID,
    full_type: str,
    data: dict[str, Any],
    *,
    now: datetime | None = None,
) -> int:
    """Apply one event; returns how many messages it created. Plain: a test can call it."""
    now = now or utcnow()
    event_type = rules.short_type(full_type)
    if event_type == "company.upserted.v1":
        await directory.upsert_company(session, data)
    elif event_type == "person.changed.v1":
        await directory.replace_person(session, data)
    elif event_type == "client.segment_changed.v1":
        await directory.apply_segments(session, data)

    company_id = rules.event_company(data)
    company = await session.get(Company, company_id, populate_existing=True) if company_id else None
    context = {
        "event": data,
        "company": _company_context(company),
        "segment": dict(company.segments) if company else {},
    }

    if not event_type.startswith(INTERNAL_PREFIX):
        await webhooks.enqueue(
            session,
            event_id=event_id,
            event_type=event_type,
            company_id=company_id,
            payload={
                "specversion": "1.0",
                "id": str(event_id),
                "type": full_type,
                "source": "/b2b/notifications",
                "data": data,
            },
        )

    created = 0
    found = [rules.rule_from_row(r.__dict__) for r in await messages.rules_for(session, event_type)]
    for rule in found:
        if rule.cancel_on and rules.cancels(rule, event_type, context):
            thread = rules.thread_of(rule, context)
            if thread:
                await messages.cancel_thread(session, rule.code, thread)
    company_prefs = await directory.company_preferences(session, company_id)
    for rule in found:
        if rule.event_type != event_type or not rules.matches(rule.conditions, context):
            continue
        recipients = await directory.audience(session, rule.audience, company, data)
        if not recipients:
            continue
        variants = await messages.templates_of(session, rule.template)
        prefs = await directory.user_preferences(session, [r.user_id for r in recipients])
        thread = rules.thread_of(rule, context)
        if thread:  # a newer event of the thread replaces what is still waiting
            await messages.cancel_thread(session, rule.code, thread)
        for recipient in recipients:
            created += await _message(
                session,
                settings,
                rule,
                recipient,
                variants,
                context,
                event_id=event_id,
                event_type=event_type,
                company_id=company_id,
                thread=thread,
                enabled=delivery.channel_enabled(
                    rule.kind, rule.channel, prefs[recipient.user_id], company_prefs
                ),
                now=now,
            )
    return created


async def _message(
    session: AsyncSession,
    settings: Settings,
    rule: rules.Rule,
    recipient: directory.Recipient,
    variants: dict[str, Any],
    context: dict[str, Any],
    *,
    event_id: uuid.UUID,
    event_type: str,
    company_id: uuid.UUID | None,
    thread: str | None,
    enabled: bool,
    now: datetime,
) -> int:
    locale = templates.pick_locale(
        recipient.locale or context["company"].get("locale"), set(variants), settings.default_locale
    )
    if locale is None:
        log.error("rule %s names template %s, which has no variant", rule.code, rule.template)
        return 0
    template = variants[locale]
    links = _links(settings, recipient, rule.kind, context["event"])
    rendered = templates.render(
        template.subject,
        template.body,
        {
            **context,
            "recipient": {"name": recipient.name, "email": recipient.email},
            "links": links,
        },
    )
    due = rules.due_at(rule, context, now)
    if not enabled:
        status = "suppressed"
    elif rule.channel == "inbox":
        status = "delivered" if due <= now else "pending"
    else:
        due = delivery.after_quiet_hours(due, _quiet(settings, recipient))
        recent = await messages.recent_emails(
            session, recipient.user_id, now - timedelta(seconds=settings.throttle_window_seconds)
        )
        route = delivery.route_email(
            digest_mode=recipient.digest,
            recent_emails=recent,
            limit=settings.throttle_per_recipient,
        )
        status = "pending"
        if route == delivery.DIGEST:
            status = "digest"
            if recipient.digest:
                due = max(
                    due,
                    delivery.next_digest_at(
                        now, settings.digest_hour, recipient.timezone or settings.default_timezone
                    ),
                )
            else:  # throttled: what the burst held back goes in one message at the window's end
                due = max(due, now + timedelta(seconds=settings.throttle_window_seconds))
    return int(
        await messages.add_message(
            session,
            {
                "rule_code": rule.code,
                "event_id": event_id,
                "event_type": event_type,
                "dedupe_key": rules.dedupe_key(rule, event_id, context),
                "recipient_id": recipient.user_id,
                "company_id": company_id,
                "channel": rule.channel,
                "kind": rule.kind,
                "locale": locale,
                "address": recipient.email if rule.channel == "email" else None,
                "subject": rendered.subject,
                "body": rendered.body,
                "thread": thread,
                "status": status,
                "due_at": due,
                "sent_at": now if status == "delivered" else None,
            },
        )
    )


async def fan_out_internal(
    session: AsyncSession, settings: Settings, event_type: str, key: str, data: dict[str, Any]
) -> int:
    """An event of our own (a subscriber paused) through the same rules; `key` makes it once."""
    event_id = uuid.uuid5(uuid.NAMESPACE_URL, f"b2b:notifications:{event_type}:{key}")
    return await fan_out(session, settings, event_id, "com.b2b." + event_type, data)


class NotificationConsumer(EventConsumer):
    """The kernel's consumer (inbox, retries, dead letters, offsets after commit) dispatching
    every event type of its topics to `fan_out`, contract or not."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        publisher: Publisher,
        settings: Settings,
        *,
        on_applied: Callable[[], None] | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        super().__init__(
            CONSUMER_NAME,
            {},
            sessionmaker,
            publisher,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            on_outcome=on_outcome,
        )
        self.topics = sorted(topics())
        self.settings = settings
        self.on_applied = on_applied

    async def apply(self, envelope: CloudEvent) -> Outcome:
        contract = contract_for(envelope.type)
        if contract is not None:  # a known event must be well formed, or it is dead-lettered
            contract.model_validate(envelope.data)
        async with self.sessionmaker() as session, session.begin():
            inserted = await session.scalar(
                insert(InboxEntry)
                .values(consumer=self.name, event_id=envelope.id, event_type=envelope.type)
                .on_conflict_do_nothing()
                .returning(InboxEntry.event_id)
            )
            if inserted is None:
                return Outcome.DUPLICATE
            await fan_out(session, self.settings, envelope.id, envelope.type, envelope.data)
        if self.on_applied:
            self.on_applied()
        return Outcome.APPLIED


async def run_consumer(app: Any) -> None:
    consumer = NotificationConsumer(
        app.state.sessionmaker,
        app.state.publisher,
        app.state.settings,
        on_applied=app.state.wake_delivery.set,
        on_outcome=lambda outcome: app.state.outcomes.update([outcome.value]),
    )
    app.state.consumer = consumer
    await consumer.run(ready=app.state.consumer_ready)
