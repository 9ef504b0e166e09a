"""From an event to messages, in the consumer's transaction with its inbox row: projections
(companies, people, segments) are updated, messages a later event makes moot are cancelled,
webhook deliveries are queued for the subscribers that want the event, and each enabled rule
that matches creates at most one message per recipient (unique rule, recipient, dedupe key —
the event id unless the rule says otherwise). Nothing is sent here: the delivery workers send
what this committed, so a crash or an SMTP outage delays messages, never loses them."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.domain import delivery, rules, signing, templates
from services.notifications.settings import Settings
from services.notifications.store import directory, messages, webhooks
from shared.clock import utcnow
from shared.contracts.accounts import INVITATION_TOKEN
from shared.tokens import derived_token

log = logging.getLogger(__name__)
INTERNAL_PREFIX = "notifications."

PROJECTIONS = {
    "company.upserted.v1": directory.upsert_company,
    "person.changed.v1": directory.replace_person,
    "client.segment_changed.v1": directory.apply_segments,
}


def _company_context(company: directory.CompanyView | None) -> dict[str, Any]:
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
    if "invitation_id" in data:
        # The token is derived here as accounts derived it: no event ever carries it.
        token = derived_token(
            settings.internal_secret.get_secret_value(), INVITATION_TOKEN, data["invitation_id"]
        )
        links["accept"] = f"{links['portal']}/invitations/{token}"
    if kind == "surveys" and company_id is not None and "order_id" not in data:
        # A client that stopped buying: the churn questionnaire.
        links["churn_survey"] = f"{base}/churn-surveys/" + signing.link_token(
            secret, "churn_survey", u=str(recipient.user_id), c=str(company_id)
        )
    return links


def _quiet(settings: Settings, r: directory.Recipient) -> delivery.QuietHours | None:
    if r.quiet_from is None or r.quiet_to is None:
        return None
    return delivery.QuietHours(r.quiet_from, r.quiet_to, r.timezone or settings.default_timezone)


@dataclass
class Batch:
    """What events applied in one transaction share: companies and audiences looked up once,
    and webhook deliveries inserted in one statement at the end (`flush`)."""

    companies: dict[uuid.UUID, Any] = field(default_factory=dict)
    audiences: dict[tuple[Any, ...], list[directory.Recipient]] = field(default_factory=dict)
    deliveries: list[dict[str, Any]] = field(default_factory=list)

    def forget_people(self) -> None:
        self.companies.clear()
        self.audiences.clear()

    async def flush(self, session: AsyncSession) -> None:
        if self.deliveries:
            _queued(session, "webhook", await webhooks.enqueue_many(session, self.deliveries))
            self.deliveries.clear()


async def fan_out(
    session: AsyncSession,
    settings: Settings,
    event_id: uuid.UUID,
    full_type: str,
    data: dict[str, Any],
    *,
    now: datetime | None = None,
    rule_cache: messages.RuleCache | None = None,
    batch: Batch | None = None,
) -> int:
    """Apply one event; returns how many messages it created. Plain: a test can call it.
    With `batch`, the caller runs `batch.flush(session)` before committing."""
    now = now or utcnow()
    event_type = rules.short_type(full_type)
    if event_type in PROJECTIONS:
        await PROJECTIONS[event_type](session, data)
        if batch is not None:
            batch.forget_people()

    company_id = rules.event_company(data)
    if rule_cache is not None:
        found = await rule_cache.rules_for(session, event_type)
    else:
        found = await messages.rules_for(session, event_type)
    company: directory.CompanyView | None = None
    company_prefs: dict[tuple[str, str], bool] = {}
    if company_id and found:
        if batch is None:
            company, company_prefs = await directory.company_view(session, company_id)
        else:
            if company_id not in batch.companies:
                batch.companies[company_id] = await directory.company_view(session, company_id)
            company, company_prefs = batch.companies[company_id]
    context = {
        "event": data,
        "company": _company_context(company),
        "segment": dict(company.segments) if company else {},
    }

    if not event_type.startswith(INTERNAL_PREFIX):
        outgoing = {
            "event_id": event_id,
            "event_type": event_type,
            "company_id": company_id,
            "payload": {
                "specversion": "1.0",
                "id": str(event_id),
                "type": full_type,
                "source": "/b2b/notifications",
                "data": data,
            },
        }
        if batch is None:
            _queued(session, "webhook", await webhooks.enqueue_many(session, [outgoing]))
        else:
            batch.deliveries.append(outgoing)

    created = 0
    if not found:
        return 0
    for rule in found:
        if rule.cancel_on and rules.cancels(rule, event_type, context):
            thread = rules.thread_of(rule, context)
            if thread:
                await messages.cancel_thread(session, rule.code, thread)
    for rule in found:
        if rule.event_type != event_type or not rules.matches(rule.conditions, context):
            continue
        if batch is None:
            recipients = await directory.audience(session, rule.audience, company, data)
        else:
            key = (rule.audience, company_id, data.get("sales_manager_id"), data.get("email"))
            if key not in batch.audiences:
                batch.audiences[key] = await directory.audience(
                    session, rule.audience, company, data
                )
            recipients = batch.audiences[key]
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
    _queued(session, "message", created)
    return created


def _queued(session: AsyncSession, what: str, n: int) -> None:
    """Count in the session what this transaction leaves for the workers, so the consumer wakes
    only the workers that have something to do once it commits."""
    if n:
        session.info[what] = session.info.get(what, 0) + n


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
        locale=locale,
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
