"""Webhook subscriptions (a company admin's for its company, an admin's for any or for all),
their delivery log with every attempt, manual redelivery and resuming a paused subscriber."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import AfterValidator, AnyHttpUrl, BaseModel, Field

from services.notifications.domain.rules import short_type
from services.notifications.settings import Settings
from services.notifications.store.models import WebhookDelivery, WebhookSubscription
from services.notifications.usecases import webhooks as usecase
from services.notifications.usecases.access import COMPANY_MANAGERS
from services.notifications.usecases.webhooks import PUBLISHED
from shared.apiconventions import examples
from shared.auth import allow
from shared.db import SessionDep
from shared.fields import SINGLE_LINE, line
from shared.pagination import Page, PageDep, PageParams, page_params

router = APIRouter(tags=["webhooks"])
pages = APIRouter(tags=["webhooks"])


def _published(value: str) -> str:
    """A published event type in its stored (short) form: a subscription to any other spelling
    would never receive anything."""
    short = short_type(value)
    if value != "*" and short not in PUBLISHED:
        raise ValueError(f"{value!r} is not a published event type (see the AsyncAPI document)")
    return short


EventType = Annotated[str, Field(max_length=200, pattern=SINGLE_LINE), AfterValidator(_published)]
EVENT_TYPES = (
    "Event types to receive, each as its short type (`order.placed.v1`) or its CloudEvents "
    "type (`com.b2b.order.placed.v1`), as the AsyncAPI document lists them; stored short. "
    "'*': all. Another spelling is a 422 naming its index. A company's subscription names only "
    "events about a company (with `company_id` or `client_id`), `*` being all of those."
)


@examples(
    {
        "url": "https://erp.alpha.example/hooks/b2b",
        "event_types": ["order.placed.v1", "order.shipped.v1"],
        "description": "Alpha's ERP: new and shipped orders",
        "company_id": "7b3f6a52-9a4e-4f1e-8a31-0c2d9b6e5f10",
    }
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


# Alpha's ERP hears of Alpha's orders (an admin's or Alpha's company admin's subscription).
SUBSCRIPTION = {
    "id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
    "company_id": "7b3f6a52-9a4e-4f1e-8a31-0c2d9b6e5f10",
    "url": "https://erp.alpha.example/hooks/b2b",
    "event_types": ["order.placed.v1", "order.shipped.v1"],
    "description": "Alpha's ERP: new and shipped orders",
    "status": "active",
    "failing_since": None,
    "paused_at": None,
    "created_at": "2026-11-23T10:00:00Z",
}


@examples(SUBSCRIPTION)
class SubscriptionRead(BaseModel):
    id: uuid.UUID
    company_id: uuid.UUID | None
    url: str
    event_types: list[str]
    description: str
    status: Literal["active", "paused"] = Field(description="`paused`: failing for too long")
    failing_since: datetime | None
    paused_at: datetime | None
    created_at: datetime


@examples({**SUBSCRIPTION, "secret": "whsec_Zq3vY0m8Hn2cR5tW1xK7pL4sD9fG6jA2bE8uQ0iO3yM"})
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
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryDetail(DeliveryRead):
    payload: dict[str, Any]
    log: list[AttemptRead]


def _read(s: WebhookSubscription) -> SubscriptionRead:
    return SubscriptionRead.model_validate(s, from_attributes=True)


def _allow_private(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return settings.webhook_allow_private_urls


def _delivery(found: WebhookDelivery) -> DeliveryRead:
    return DeliveryRead.model_validate(found, from_attributes=True)


@router.post("/webhooks", status_code=201, summary="Subscribe a URL to event types")
async def create_subscription(
    body: SubscriptionCreate,
    request: Request,
    session: SessionDep,
    principal: allow(*COMPANY_MANAGERS),
) -> SubscriptionCreated:
    sub = await usecase.subscribe(
        session,
        principal,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        company_id=body.company_id,
        allow_private=_allow_private(request),
    )
    return SubscriptionCreated(**_read(sub).model_dump(), secret=sub.secret)


@pages.get(
    "/webhooks", summary="Subscriptions, oldest first: a company admin's company's, an admin's all"
)
async def list_subscriptions(
    session: SessionDep,
    principal: allow(*COMPANY_MANAGERS),
    page: PageDep,
    company_id: uuid.UUID | None = None,
) -> Page[SubscriptionRead]:
    return Page.of(await usecase.subscriptions(session, principal, company_id, page), _read)


@router.get("/webhooks/{subscription_id}", summary="One subscription")
async def get_subscription(
    subscription_id: uuid.UUID, session: SessionDep, principal: allow(*COMPANY_MANAGERS)
) -> SubscriptionRead:
    return _read(await usecase.subscription(session, principal, subscription_id))


@router.patch("/webhooks/{subscription_id}", summary="Change URL, event types or description")
async def update_subscription(
    subscription_id: uuid.UUID,
    body: SubscriptionUpdate,
    request: Request,
    session: SessionDep,
    principal: allow(*COMPANY_MANAGERS),
) -> SubscriptionRead:
    changes = {"url": body.url, "event_types": body.event_types, "description": body.description}
    sub = await usecase.change(
        session, principal, subscription_id, changes, allow_private=_allow_private(request)
    )
    return _read(sub)


@router.delete("/webhooks/{subscription_id}", status_code=204, summary="Unsubscribe")
async def delete_subscription(
    subscription_id: uuid.UUID, session: SessionDep, principal: allow(*COMPANY_MANAGERS)
) -> Response:
    await usecase.unsubscribe(session, principal, subscription_id)
    return Response(status_code=204)


@router.post(
    "/webhooks/{subscription_id}/resume",
    summary="Resume a paused subscriber: what waited is delivered now",
)
async def resume_subscription(
    subscription_id: uuid.UUID, session: SessionDep, principal: allow(*COMPANY_MANAGERS)
) -> SubscriptionRead:
    return _read(await usecase.resume(session, principal, subscription_id))


@router.get("/webhooks/{subscription_id}/deliveries", summary="The delivery log, newest first")
async def list_deliveries(
    subscription_id: uuid.UUID,
    session: SessionDep,
    principal: allow(*COMPANY_MANAGERS),
    page: Annotated[PageParams, Depends(page_params)],
    status: Literal["pending", "succeeded", "failed"] | None = None,
) -> Page[DeliveryRead]:
    rows, cursor = await usecase.deliveries(session, principal, subscription_id, status, page)
    return Page(items=[_delivery(d) for d in rows], next_cursor=cursor)


@router.get("/webhooks/deliveries/{delivery_id}", summary="A delivery, its payload and attempts")
async def get_delivery(
    delivery_id: uuid.UUID, session: SessionDep, principal: allow(*COMPANY_MANAGERS)
) -> DeliveryDetail:
    found, log = await usecase.delivery_with_log(session, principal, delivery_id)
    return DeliveryDetail(
        **_delivery(found).model_dump(),
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
    return _delivery(await usecase.redeliver(session, principal, delivery_id))
