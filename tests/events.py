"""Events as a service's tests hand them to it: wrapped as the relay wraps them and applied by
the service's own consumer, without the broker."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import FastAPI

from shared.clock import utcnow
from shared.contracts.accounts import CompanyUpsertedV1
from shared.contracts.orders import OrderCancelledV1, OrderPlacedV1
from shared.events.consumer import EventConsumer, Handlers
from shared.events.envelope import CloudEvent, EventContract


def envelope(
    event: EventContract, source: str = "test", *, event_id: uuid.UUID | None = None
) -> CloudEvent:
    """The event as its service's relay puts it on the broker."""
    return CloudEvent(
        id=event_id or uuid.uuid4(),
        source=f"/b2b/{source}",
        type=event.full_type(),
        subject=event.aggregate_id(),
        data=event.model_dump(mode="json"),
    )


def consumer_of(app: FastAPI, group: str, handlers: Handlers) -> EventConsumer:
    """The consumer the running service starts for `group`, to apply events one by one."""
    return EventConsumer(
        group,
        handlers,
        app.state.sessionmaker,
        app.state.publisher,
        bootstrap_servers=app.state.settings.kafka_bootstrap_servers,
    )


def company_upserted(company_id: uuid.UUID | None = None, **fields: Any) -> CompanyUpsertedV1:
    """A company.upserted as accounts publishes it: an active EUR client with no master data
    beyond its name, unless `fields` say otherwise."""
    client = {
        "external_id": None,
        "legal_name": "Client",
        "tax_id": None,
        "industry": None,
        "client_type": None,
        "client_group": None,
        "sales_manager_id": None,
        "credit_limit_minor": None,
        "currency": "EUR",
        "payment_terms_days": 30,
        "status": "active",
        "updated_at": utcnow(),
    }
    return CompanyUpsertedV1(company_id=company_id or uuid.uuid4(), **{**client, **fields})


def order_placed(company_id: uuid.UUID, total_minor: int, **fields: Any) -> OrderPlacedV1:
    """An order.placed as orders publishes it: a new EUR order placed now unless `fields` say
    otherwise."""
    order = {"order_id": uuid.uuid4(), "currency": "EUR", "placed_at": utcnow()}
    return OrderPlacedV1(company_id=company_id, total_minor=total_minor, **{**order, **fields})


def cancellation_of(order: OrderPlacedV1, cancelled_at: datetime, **extra: Any) -> OrderCancelledV1:
    """The cancellation of a placed order: the same order, client, total and placing time."""
    same = order.model_dump(
        include={"order_id", "company_id", "currency", "total_minor", "placed_at"}
    )
    return OrderCancelledV1(**same, cancelled_at=cancelled_at, **extra)
