"""The analytics tests' world: events as the producers would send them, applied through the
consumer (inbox included), and the HTTP callers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from services.analytics.events import consumers
from services.analytics.usecases.recompute import recompute_all, recompute_dirty
from shared.auth import Role
from shared.clock import utcnow
from shared.contracts.accounts import CompanyCreditChangedV1, CompanyUpsertedV1
from shared.contracts.catalog import ProductUpsertedV1, StockChangedV1
from shared.contracts.orders import (
    DeliveredLine,
    OrderCancelledV1,
    OrderDeliveredV1,
    OrderedLine,
    OrderPlacedV1,
)
from shared.events.consumer import EventConsumer, Outcome
from shared.events.envelope import CloudEvent, EventContract
from shared.testing.fixtures import as_role
from tests.events import cancellation_of, company_upserted, consumer_of, envelope, order_placed


def _before_midnight(moment: datetime) -> datetime:
    """The moment, or 23:30 of its day when later: a test that builds facts relative to NOW
    and then measures them never straddles midnight (nor the end of a month or a year)."""
    return min(moment, moment.replace(hour=23, minute=30, second=0, microsecond=0))


# The moment every analytics test starts at (tests/analytics/conftest.py sets the clock to it):
# the clock's day, the machine's or the one B2B_CLOCK names.
NOW = _before_midnight(utcnow())
ADMIN = as_role(Role.ADMIN)
MANAGER_ID = uuid.uuid4()
MANAGER = as_role(Role.SALES_MANAGER, subject=MANAGER_ID)  # of the clients given manager=MANAGER_ID


def consumer(app: FastAPI) -> EventConsumer:
    return consumer_of(app, "analytics.analytics", consumers(app.state.settings)["analytics"])


async def deliver(app: FastAPI, *events: EventContract | CloudEvent) -> list[Outcome]:
    """Apply the events as the consumer would, then recompute the clients they touched (what
    the worker does next)."""
    applier = consumer(app)
    outcomes = [
        await applier.apply(e if isinstance(e, CloudEvent) else envelope(e)) for e in events
    ]
    async with app.state.sessionmaker() as session, session.begin():
        await recompute_dirty(session, app.state.settings)
    return outcomes


async def recompute_base(app: FastAPI) -> dict[str, Any]:
    """The full recompute of every client, the base statistics and the summary (the hourly
    worker's)."""
    async with app.state.sessionmaker() as session, session.begin():
        return await recompute_all(session, app.state.settings)


def company(
    company_id: uuid.UUID | None = None,
    *,
    industry: str | None = "polymers",
    client_type: str | None = "producer",
    card: dict[str, Any] | None = None,
    manager: uuid.UUID | None = None,
    currency: str = "EUR",
) -> CompanyUpsertedV1:
    company_id = company_id or uuid.uuid4()
    return company_upserted(
        company_id,
        legal_name=f"Client {str(company_id)[:8]}",
        industry=industry,
        client_type=client_type,
        sales_manager_id=manager,
        currency=currency,
        updated_at=NOW,
        card=card or {},
    )


def product(sku: str, category: str, brand: str = "Acme") -> ProductUpsertedV1:
    return ProductUpsertedV1(
        sku=sku, name=sku, brand=brand, category=category, unit="pcs", sellable=True, updated_at=NOW
    )


def placed(
    company_id: uuid.UUID,
    days_ago: float,
    lines: dict[str, tuple[str, int]] | None = None,
    *,
    order_id: uuid.UUID | None = None,
    cost: int | None = None,
    currency: str = "EUR",
    at: datetime | None = None,
) -> OrderPlacedV1:
    """lines: sku -> (quantity, unit price); `cost` is every line's unit cost when given."""
    lines = lines or {"SKU-1": ("1", 1000)}
    ordered = [
        OrderedLine(
            sku=sku,
            quantity=Decimal(q),
            unit_price_minor=price,
            list_price_minor=None,
            rule="base",
            unit_cost_minor=cost,
        )
        for sku, (q, price) in lines.items()
    ]
    return order_placed(
        company_id,
        sum(round(Decimal(q) * p) for q, p in lines.values()),
        order_id=order_id or uuid.uuid4(),
        currency=currency,
        placed_at=at or NOW - timedelta(days=days_ago),
        lines=ordered,
    )


def months_ago(n: int, day: int = 15) -> datetime:
    """The `day` of the calendar month `n` months before now."""
    month = NOW.year * 12 + NOW.month - 1 - n
    return datetime(month // 12, month % 12 + 1, day, 12, tzinfo=UTC)


def stock(sku: str, available: int, seconds: int = 0) -> StockChangedV1:
    """The SKU's stock in the one warehouse, `seconds` after NOW."""
    return StockChangedV1(
        sku=sku,
        warehouse="MAIN",
        on_hand=Decimal(available),
        reserved=Decimal(0),
        available=Decimal(available),
        changed_at=NOW + timedelta(seconds=seconds),
    )


def cancelled(order: OrderPlacedV1) -> OrderCancelledV1:
    return cancellation_of(order, NOW)


def delivered(
    order: OrderPlacedV1,
    on_time: bool | None,
    in_full: bool,
    *,
    at: datetime | None = None,
    quantities: dict[str, str] | None = None,
) -> OrderDeliveredV1:
    """`quantities`: sku -> delivered quantity (the ordered lines otherwise not listed)."""
    ordered = {line.sku: line.quantity for line in order.lines}
    return OrderDeliveredV1(
        order_id=order.order_id,
        company_id=order.company_id,
        number="SO-1",
        delivered_at=at or NOW,
        promised_to=None,
        on_time=on_time,
        in_full=in_full,
        lines=[
            DeliveredLine(sku=sku, ordered=ordered[sku], delivered=Decimal(q))
            for sku, q in (quantities or {}).items()
        ],
    )


def credit(company_id: uuid.UUID, overdue_minor: int) -> CompanyCreditChangedV1:
    return CompanyCreditChangedV1(
        company_id=company_id,
        currency="EUR",
        credit_limit_minor=None,
        balance_minor=overdue_minor,
        overdue_minor=overdue_minor,
        oldest_overdue_date=None,
        purchase_limit_minor=None,
        available_credit_minor=None,
        changed_at=NOW,
    )


async def sql(app: FastAPI, query: str, **params: Any) -> list[Any]:
    async with app.state.sessionmaker() as session:
        return list((await session.execute(text(query), params)).all())


async def outbox(app: FastAPI, kind: str) -> list[dict[str, Any]]:
    rows = await sql(
        app, "SELECT payload FROM outbox WHERE type LIKE :t ORDER BY seq", t=f"%.{kind}.v1"
    )
    return [r[0]["data"] for r in rows]
