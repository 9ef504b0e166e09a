"""Webhook subscriptions as their owners see them: the list, the delivery log, the attempts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.store.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from shared.pagination import PageParams, paginate

ALL = object()  # every company's subscriptions, and the seller-wide ones


async def subscriptions(
    session: AsyncSession, company_id: uuid.UUID | object | None, page: PageParams
) -> tuple[list[WebhookSubscription], str | None]:
    """Oldest first; of one company (None: the seller-wide ones) or, with ALL, every one."""
    stmt = select(WebhookSubscription)
    if company_id is not ALL:
        stmt = stmt.where(WebhookSubscription.company_id == company_id)
    keys = [WebhookSubscription.created_at, WebhookSubscription.id]
    return await paginate(session, stmt, keys, page)


async def release_waiting(session: AsyncSession, subscription_id: uuid.UUID, now: datetime) -> None:
    """What waited for a paused subscriber is due now."""
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.status == "pending",
        )
        .values(next_attempt_at=now)
    )


async def deliveries(
    session: AsyncSession, subscription_id: uuid.UUID, status: str | None, page: PageParams
) -> tuple[list[WebhookDelivery], str | None]:
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    rows, cursor = await paginate(
        session, stmt, [WebhookDelivery.created_at, WebhookDelivery.id], page, newest_first=True
    )
    return list(rows), cursor


async def attempts(session: AsyncSession, delivery_id: uuid.UUID) -> list[WebhookAttempt]:
    return list(
        await session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.id)
        )
    )
