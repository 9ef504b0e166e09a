"""Webhook subscriptions (a company admin's for its company, an admin's for any or for all),
their delivery log, manual redelivery and resuming a paused subscriber."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from pydantic import AnyHttpUrl
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.clients import webhooks as calls
from services.notifications.domain.destinations import first_refusal
from services.notifications.domain.rules import published_types
from services.notifications.store import subscriptions as store
from services.notifications.store.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from services.notifications.usecases.access import managed_company
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.events.envelope import all_contracts
from shared.pagination import PageParams
from shared.problems import FieldError, NotFound, Unprocessable

# Every event type published (shared/contracts), as deliveries match them (the short type),
# and whether it is about a company.
PUBLISHED = published_types(all_contracts())


def about_the_company(company_id: uuid.UUID | None, event_types: list[str]) -> list[str]:
    """A company's subscription names only events about a company (`*`: all of those): one
    about none would never reach it, and is the seller's (stock, prices, people)."""
    if company_id is not None:
        errors = [
            FieldError(
                field=f"event_types[{i}]",
                message=f"{t} is about no company; only a subscription to every company's "
                "events gets it",
                row=i + 1,
            )
            for i, t in enumerate(event_types)
            if t != "*" and not PUBLISHED[t]
        ]
        if errors:
            raise Unprocessable(
                "A company's subscription gets only events about the company.", errors=errors
            )
    return sorted(set(event_types))


async def reachable_url(url: AnyHttpUrl, *, allow_private: bool) -> str:
    """The URL, unless it points into our own network and that is not allowed (SSRF). The
    delivery checks again at every connection (clients.webhooks.PublicNetwork): DNS may change."""
    if allow_private:
        return str(url)
    try:
        addresses = await calls.addresses((url.host or "").strip("[]"), url.port or 443)
    except OSError as exc:
        raise Unprocessable(
            "The subscriber's host does not resolve.",
            errors=[FieldError(field="url", message="host does not resolve")],
        ) from exc
    reason = first_refusal(addresses)
    if reason is not None:
        raise Unprocessable(
            "Webhooks may not call our own network.",
            errors=[FieldError(field="url", message=f"resolves to a non-public address: {reason}")],
        )
    return str(url)


async def _found(
    session: AsyncSession, model: type[Any], key: uuid.UUID, what: str, lock: bool
) -> Any:
    found = await session.get(model, key, with_for_update=lock)
    if found is None:
        raise NotFound(f"No such {what}.")
    return found


async def subscription(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID, *, lock: bool = False
) -> WebhookSubscription:
    """One the principal may manage; any other is unknown."""
    found = await _found(session, WebhookSubscription, subscription_id, "subscription", lock)
    if Role.ADMIN not in principal.roles:
        if found.company_id is None:
            raise NotFound("No such subscription.")
        managed_company(principal, found.company_id)
    return found


async def subscribe(
    session: AsyncSession,
    principal: Principal,
    *,
    url: AnyHttpUrl,
    event_types: list[str],
    description: str,
    company_id: uuid.UUID | None,
    allow_private: bool,
) -> WebhookSubscription:
    """A new subscription with its signing secret: an admin's for the company named (or for
    all), a company admin's for its company."""
    checked = await reachable_url(url, allow_private=allow_private)
    if Role.ADMIN not in principal.roles:
        if principal.company_id is None:
            raise Unprocessable("Choose the company you act for first.")
        company_id = managed_company(principal, company_id or principal.company_id)
    sub = WebhookSubscription(
        company_id=company_id,
        url=checked,
        event_types=about_the_company(company_id, event_types),
        secret="whsec_" + secrets.token_urlsafe(32),
        description=description,
        status="active",
        created_by=str(principal.subject),
    )
    session.add(sub)
    await session.flush()
    return sub


async def subscriptions(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID | None, page: PageParams
) -> tuple[list[WebhookSubscription], str | None]:
    """A company admin's company's; an admin's all, or one company's."""
    if Role.ADMIN not in principal.roles:
        return await store.subscriptions(session, principal.company_id, page)
    whose = store.ALL if company_id is None else company_id
    return await store.subscriptions(session, whose, page)


async def change(
    session: AsyncSession,
    principal: Principal,
    subscription_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    allow_private: bool,
) -> WebhookSubscription:
    """Set the `url`, `event_types` or `description` given."""
    sub = await subscription(session, principal, subscription_id, lock=True)
    if changes.get("url") is not None:
        sub.url = await reachable_url(changes["url"], allow_private=allow_private)
    if changes.get("event_types") is not None:
        sub.event_types = about_the_company(sub.company_id, changes["event_types"])
    if changes.get("description") is not None:
        sub.description = changes["description"]
    await session.flush()
    return sub


async def unsubscribe(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID
) -> None:
    await session.delete(await subscription(session, principal, subscription_id, lock=True))


async def resume(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID
) -> WebhookSubscription:
    """A paused subscriber is active again and what waited for it is due now."""
    sub = await subscription(session, principal, subscription_id, lock=True)
    sub.status, sub.failing_since, sub.paused_at = "active", None, None
    await store.release_waiting(session, sub.id, utcnow())
    await session.flush()
    return sub


async def deliveries(
    session: AsyncSession,
    principal: Principal,
    subscription_id: uuid.UUID,
    status: str | None,
    page: PageParams,
) -> tuple[list[WebhookDelivery], str | None]:
    await subscription(session, principal, subscription_id)
    return await store.deliveries(session, subscription_id, status, page)


async def delivery(
    session: AsyncSession, principal: Principal, delivery_id: uuid.UUID, *, lock: bool = False
) -> WebhookDelivery:
    found = await _found(session, WebhookDelivery, delivery_id, "delivery", lock)
    await subscription(session, principal, found.subscription_id)
    return found


async def delivery_with_log(
    session: AsyncSession, principal: Principal, delivery_id: uuid.UUID
) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    found = await delivery(session, principal, delivery_id)
    return found, await store.attempts(session, delivery_id)


async def redeliver(
    session: AsyncSession, principal: Principal, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """Send it again now (failed or succeeded), with a fresh attempt budget."""
    found = await delivery(session, principal, delivery_id, lock=True)
    found.status, found.attempts, found.next_attempt_at = "pending", 0, utcnow()
    await session.flush()
    return found
