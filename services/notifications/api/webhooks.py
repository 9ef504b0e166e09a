"""Webhook subscriptions (a company admin's for its company, an admin's for any or for all),
their delivery log with every attempt, manual redelivery and resuming a paused subscriber."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import AfterValidator, AnyHttpUrl, BaseModel, Field
from sqlalchemy import select, update

from services.notifications.api.access import COMPANY_MANAGERS, managed_company
from services.notifications.domain.destinations import first_refusal
from services.notifications.domain.rules import published_types, short_type
from services.notifications.settings import Settings
from services.notifications.store.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from shared.auth import Principal, Role, allow
from shared.clock import utcnow
from shared.db import SessionDep
from shared.events.envelope import all_contracts
from shared.fields import SINGLE_LINE, line
from shared.pagination import Page, PageParams, page_params, paginate
from shared.problems import FieldError, NotFound, Unprocessable

router = APIRouter(tags=["webhooks"])


# Every event type published (shared/contracts), as deliveries match them (the short type),
# and whether it is about a company.
PUBLISHED = published_types(all_contracts())


def _published(value: str) -> str:
    """A published event type in its stored (short) form: a subscription to any other spelling
    would never receive anything."""
    short = short_type(value)
    if value != "*" and short not in PUBLISHED:
        raise ValueError(f"{value!r} is not a published event type (see the AsyncAPI document)")
    return short


def _about_the_company(company_id: uuid.UUID | None, event_types: list[str]) -> list[str]:
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


EventType = Annotated[str, Field(max_length=200, pattern=SINGLE_LINE), AfterValidator(_published)]
EVENT_TYPES = (
    "Event types to receive, each as its short type (`order.placed.v1`) or its CloudEvents "
    "type (`com.b2b.order.placed.v1`), as the AsyncAPI document lists them; stored short. "
    "'*': all. Another spelling is a 422 naming its index. A company's subscription names only "
    "events about a company (with `company_id` or `client_id`), `*` being all of those."
)


class SubscriptionCreate(BaseModel):
    url: AnyHttpUrl
    event_types: list[EventType] = Field(
        min_length=1, examples=[["order.placed.v1", "order.shipped.v1"]], description=EVENT_TYPES
    )
    description: line(500) = ""
    company_id: uuid.UUID | None = Field(
        None, description="Admins: the company whose events it gets; none: every company's"
    )


class SubscriptionUpdate(BaseModel):
    url: AnyHttpUrl | None = None
    event_types: list[EventType] | None = Field(None, min_length=1, description=EVENT_TYPES)
    description: line(500) | None = None


class SubscriptionRead(BaseModel):
    id: uuid.UUID
    company_id: uuid.UUID | None
    url: str
    event_types: list[str]
    description: str
    status: str
    failing_since: datetime | None
    paused_at: datetime | None
    created_at: datetime


class SubscriptionCreated(SubscriptionRead):
    secret: str = Field(description="Signs every call (HMAC-SHA256); shown only now")


class AttemptRead(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryRead(BaseModel):
    id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryDetail(DeliveryRead):
    payload: dict[str, Any]
    log: list[AttemptRead]


async def _reachable_url(request: Request, url: AnyHttpUrl) -> str:
    """The URL, unless it points into our own network and that is not allowed (SSRF). The
    delivery checks again at every connection (outbound.PublicNetwork): DNS may change."""
    settings: Settings = request.app.state.settings
    if settings.webhook_allow_private_urls:
        return str(url)
    host = (url.host or "").strip("[]")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, url.port or 443)
    except OSError as exc:
        raise Unprocessable(
            "The subscriber's host does not resolve.",
            errors=[FieldError(field="url", message="host does not resolve")],
        ) from exc
    reason = first_refusal([str(info[4][0]) for info in infos])
    if reason is not None:
        raise Unprocessable(
            "Webhooks may not call our own network.",
            errors=[FieldError(field="url", message=f"resolves to a non-public address: {reason}")],
        )
    return str(url)


def _read(s: WebhookSubscription) -> SubscriptionRead:
    return SubscriptionRead.model_validate(s, from_attributes=True)


async def _subscription(
    session: SessionDep, principal: Principal, subscription_id: uuid.UUID, *, lock: bool = False
) -> WebhookSubscription:
    found = await session.get(WebhookSubscription, subscription_id, with_for_update=lock)
    if found is None:
        raise NotFound("No such subscription.")
    if Role.ADMIN not in principal.roles:
        if found.company_id is None:
            raise NotFound("No such subscription.")
        managed_company(principal, found.company_id)
    return found


@router.post("/webhooks", status_code=201, summary="Subscribe a URL to event types")
async def create_subscription(
    body: SubscriptionCreate,
    request: Request,
    session: SessionDep,
    principal: allow(*COMPANY_MANAGERS),
) -> SubscriptionCreated:
    url = await _reachable_url(request, body.url)
    if Role.ADMIN in principal.roles:
        company_id = body.company_id
    else:
        if principal.company_id is None:
            raise Unprocessable("Choose the company you act for first.")
        company_id = managed_company(principal, body.company_id or principal.company_id)
    sub = WebhookSubscription(
        company_id=company_id,
        url=url,
        event_types=_about_the_company(company_id, body.event_types),
        secret="whsec_" + secrets.token_urlsafe(32),
        description=body.description,
        status="active",
        created_by=str(principal.subject),
    )
    session.add(sub)
    await session.flush()
    return SubscriptionCreated(**_read(sub).model_dump(), secret=sub.secret)


@router.get("/webhooks", summary="Subscriptions: a company admin's company's, an admin's all")
async def list_subscriptions(
    session: SessionDep, principal: allow(*COMPANY_MANAGERS), company_id: uuid.UUID | None = None
) -> list[SubscriptionRead]:
    stmt = select(WebhookSubscription).order_by(WebhookSubscription.created_at)
    if Role.ADMIN not in principal.roles:
        stmt = stmt.where(WebhookSubscription.company_id == principal.company_id)
    elif company_id is not None:
        stmt = stmt.where(WebhookSubscription.company_id == company_id)
    return [_read(s) for s in await session.scalars(stmt)]


@router.get("/webhooks/{subscription_id}", summary="One subscription")
async def get_subscription(
    subscription_id: uuid.UUID, session: SessionDep, principal: allow(*COMPANY_MANAGERS)
) -> SubscriptionRead:
    return _read(await _subscription(session, principal, subscription_id))


@router.patch("/webhooks/{subscription_id}", summary="Change URL, event types or description")
async def update_subscription(
    subscription_id: uuid.UUID,
    body: SubscriptionUpdate,
    request: Request,
    session: SessionDep,
    principal: allow(*COMPANY_MANAGERS),
) -> SubscriptionRead:
    sub = await _subscription(session, principal, subscription_id, lock=True)
    if body.url is not None:
        sub.url = await _reachable_url(request, body.url)
    if body.event_types is not None:
        sub.event_types = _about_the_company(sub.company_id, body.event_types)
    if body.description is not None:
        sub.description = body.description
    await session.flush()
    return _read(sub)


@router.delete("/webhooks/{subscription_id}", status_code=204, summary="Unsubscribe")
async def delete_subscription(
    subscription_id: uuid.UUID, session: SessionDep, principal: allow(*COMPANY_MANAGERS)
) -> Response:
    await session.delete(await _subscription(session, principal, subscription_id, lock=True))
    return Response(status_code=204)


@router.post(
    "/webhooks/{subscription_id}/resume",
    summary="Resume a paused subscriber: what waited is delivered now",
)
async def resume_subscription(
    subscription_id: uuid.UUID, session: SessionDep, principal: allow(*COMPANY_MANAGERS)
) -> SubscriptionRead:
    sub = await _subscription(session, principal, subscription_id, lock=True)
    sub.status, sub.failing_since, sub.paused_at = "active", None, None
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == sub.id, WebhookDelivery.status == "pending")
        .values(next_attempt_at=utcnow())
    )
    await session.flush()
    return _read(sub)


@router.get("/webhooks/{subscription_id}/deliveries", summary="The delivery log, newest first")
async def list_deliveries(
    subscription_id: uuid.UUID,
    session: SessionDep,
    principal: allow(*COMPANY_MANAGERS),
    page: Annotated[PageParams, Depends(page_params)],
    status: Literal["pending", "succeeded", "failed"] | None = None,
) -> Page[DeliveryRead]:
    await _subscription(session, principal, subscription_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    rows, cursor = await paginate(
        session, stmt, [WebhookDelivery.created_at, WebhookDelivery.id], page, newest_first=True
    )
    return Page(
        items=[DeliveryRead.model_validate(d, from_attributes=True) for d in rows],
        next_cursor=cursor,
    )


async def _delivery(
    session: SessionDep, principal: Principal, delivery_id: uuid.UUID, *, lock: bool = False
) -> WebhookDelivery:
    found = await session.get(WebhookDelivery, delivery_id, with_for_update=lock)
    if found is None:
        raise NotFound("No such delivery.")
    await _subscription(session, principal, found.subscription_id)
    return found


@router.get("/webhooks/deliveries/{delivery_id}", summary="A delivery, its payload and attempts")
async def get_delivery(
    delivery_id: uuid.UUID, session: SessionDep, principal: allow(*COMPANY_MANAGERS)
) -> DeliveryDetail:
    found = await _delivery(session, principal, delivery_id)
    log = await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery_id)
        .order_by(WebhookAttempt.id)
    )
    return DeliveryDetail(
        **DeliveryRead.model_validate(found, from_attributes=True).model_dump(),
        payload=found.payload,
        log=[AttemptRead.model_validate(a, from_attributes=True) for a in log],
    )


@router.post(
    "/webhooks/deliveries/{delivery_id}/redeliver",
    status_code=202,
    summary="Send a delivery again now (failed or succeeded), with a fresh attempt budget",
)
async def redeliver(
    delivery_id: uuid.UUID, session: SessionDep, principal: allow(*COMPANY_MANAGERS)
) -> DeliveryRead:
    found = await _delivery(session, principal, delivery_id, lock=True)
    found.status, found.attempts, found.next_attempt_at = "pending", 0, utcnow()
    await session.flush()
    return DeliveryRead.model_validate(found, from_attributes=True)
