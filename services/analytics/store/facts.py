"""Writes of the facts, one statement per table, in the handler's transaction."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.store.models import (
    Client,
    ClientSkuFact,
    OrderFact,
    OrderLineFact,
    Product,
    SkuMonthFact,
)
from shared.contracts.accounts import CompanyCreditChangedV1, CompanyUpsertedV1
from shared.contracts.catalog import ProductUpsertedV1
from shared.contracts.orders import OrderCancelledV1, OrderDeliveredV1, OrderPlacedV1
from shared.db import upsert_unless_newer

# What the facts keep of the events as they are (a client's id is the company's).
_CLIENT_FIELDS = {
    "legal_name",
    "industry",
    "client_type",
    "client_group",
    "sales_manager_id",
    "currency",
    "status",
    "updated_at",
}
_ORDER_FIELDS = {
    "order_id",
    "currency",
    "placed_at",
    "total_minor",
    "source",
    "placed_by",
    "on_behalf",
    "adds_to_order_id",
    "need",
}

# A client known from its credit before its master data: any company.upserted replaces it.
MASTER_DATA_TO_COME = datetime(1970, 1, 1, tzinfo=UTC)


def _minor(quantity: Decimal, unit_minor: int) -> int:
    return int((quantity * unit_minor).to_integral_value(ROUND_HALF_EVEN))


def _potential(value: Any) -> int | None:
    try:
        return int(Decimal(str(value))) if value is not None else None
    except ArithmeticError:
        return None


async def upsert_client(
    session: AsyncSession, event: CompanyUpsertedV1, *, size_key: str, potential_key: str
) -> None:
    size = event.card.get(size_key)
    values = {
        "id": event.company_id,
        **event.model_dump(include=_CLIENT_FIELDS),
        "size": str(size) if size is not None else None,
        "purchase_potential_minor": _potential(event.card.get(potential_key)),
    }
    await upsert_unless_newer(session, Client, values, ("id",))


async def set_credit(session: AsyncSession, event: CompanyCreditChangedV1) -> None:
    values = event.model_dump(include={"balance_minor", "overdue_minor", "oldest_overdue_date"})
    stmt = insert(Client).values(
        id=event.company_id,
        legal_name="",
        currency=event.currency,
        status="active",
        updated_at=MASTER_DATA_TO_COME,
        **values,
    )
    await session.execute(stmt.on_conflict_do_update(index_elements=[Client.id], set_=values))


async def upsert_product(session: AsyncSession, event: ProductUpsertedV1) -> None:
    values = event.model_dump(include={"sku", "name", "brand", "category", "updated_at"})
    await upsert_unless_newer(session, Product, values, ("sku",))


async def add_order(session: AsyncSession, event: OrderPlacedV1) -> bool:
    """Record a placed order and its lines; False when it was already known."""
    lines = []
    costed = cost = 0
    for no, line in enumerate(event.lines, start=1):
        revenue = _minor(line.quantity, line.unit_price_minor)
        line_cost = (
            _minor(line.quantity, line.unit_cost_minor)
            if line.unit_cost_minor is not None
            else None
        )
        if line_cost is not None:
            costed += revenue
            cost += line_cost
        lines.append(
            {
                "order_id": event.order_id,
                "line_no": no,
                "client_id": event.company_id,
                "placed_at": event.placed_at,
                "sku": line.sku,
                "quantity": line.quantity,
                "revenue_minor": revenue,
                "cost_minor": line_cost,
                "unit_price_minor": line.unit_price_minor,
                "list_price_minor": line.list_price_minor,
            }
        )
    inserted = await session.scalar(
        insert(OrderFact)
        .values(
            **event.model_dump(include=_ORDER_FIELDS),
            client_id=event.company_id,
            costed_minor=costed,
            cost_minor=cost,
            lines=len(lines),
            counted=True,
        )
        .on_conflict_do_nothing()
        .returning(OrderFact.order_id)
    )
    if inserted is None:
        return False
    if lines:
        await session.execute(insert(OrderLineFact), lines)
        await _add_sku_months(session, lines, event.currency, sign=1)
        await _add_client_skus(session, lines, sign=1)
    return True


async def _add_sku_months(
    session: AsyncSession, lines: list[dict[str, Any]], currency: str, *, sign: int
) -> None:
    totals: dict[tuple[str, date], list[Any]] = defaultdict(lambda: [0, Decimal(0), 0])
    for line in lines:
        month = line["placed_at"].date().replace(day=1)
        bucket = totals[(line["sku"], month)]
        bucket[0] += sign * line["revenue_minor"]
        bucket[1] += sign * Decimal(line["quantity"])
        bucket[2] += sign
    stmt = insert(SkuMonthFact).values(
        [
            {
                "sku": sku,
                "currency": currency,
                "month": month,
                "revenue_minor": revenue,
                "quantity": quantity,
                "lines": count,
            }
            for (sku, month), (revenue, quantity, count) in sorted(totals.items())
        ]
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[SkuMonthFact.sku, SkuMonthFact.currency, SkuMonthFact.month],
            set_={
                "revenue_minor": SkuMonthFact.revenue_minor + stmt.excluded.revenue_minor,
                "quantity": SkuMonthFact.quantity + stmt.excluded.quantity,
                "lines": SkuMonthFact.lines + stmt.excluded.lines,
            },
        )
    )


async def _add_client_skus(
    session: AsyncSession, lines: list[dict[str, Any]], *, sign: int
) -> None:
    totals: dict[tuple[uuid.UUID, str], list[Any]] = defaultdict(lambda: [0, Decimal(0), 0, None])
    for line in lines:
        bucket = totals[(line["client_id"], line["sku"])]
        bucket[0] += sign
        bucket[1] += sign * Decimal(line["quantity"])
        bucket[2] += sign * line["revenue_minor"]
        bucket[3] = max(bucket[3] or line["placed_at"], line["placed_at"])
    stmt = insert(ClientSkuFact).values(
        [
            {
                "client_id": client_id,
                "sku": sku,
                "lines": count,
                "quantity": quantity,
                "revenue_minor": revenue,
                "last_at": last_at,
            }
            for (client_id, sku), (count, quantity, revenue, last_at) in sorted(totals.items())
        ]
    )
    # A cancel leaves last_at as it was: the SKU was bought then, if not in that order.
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ClientSkuFact.client_id, ClientSkuFact.sku],
            set_={
                "lines": ClientSkuFact.lines + stmt.excluded.lines,
                "quantity": ClientSkuFact.quantity + stmt.excluded.quantity,
                "revenue_minor": ClientSkuFact.revenue_minor + stmt.excluded.revenue_minor,
                "last_at": func.greatest(ClientSkuFact.last_at, stmt.excluded.last_at),
            },
        )
    )


async def cancel_order(session: AsyncSession, event: OrderCancelledV1) -> bool:
    """The order stops counting; False when it was unknown or already cancelled."""
    found = await session.scalar(
        update(OrderFact)
        .where(OrderFact.order_id == event.order_id, OrderFact.counted.is_(True))
        .values(counted=False)
        .returning(OrderFact.currency)
    )
    if found is None:
        return False
    rows = (
        await session.execute(
            OrderLineFact.__table__.select().where(OrderLineFact.order_id == event.order_id)
        )
    ).mappings()
    lines = [dict(r) for r in rows]
    if lines:
        await _add_sku_months(session, lines, found, sign=-1)
        await _add_client_skus(session, lines, sign=-1)
    return True


async def deliver_order(session: AsyncSession, event: OrderDeliveredV1) -> bool:
    """On time, in full, and the delivered value: each delivered quantity at its line's price
    (all of the order when the event lists no lines)."""
    lines = (
        await session.execute(
            OrderLineFact.__table__.select()
            .with_only_columns(
                OrderLineFact.sku, OrderLineFact.quantity, OrderLineFact.revenue_minor
            )
            .where(OrderLineFact.order_id == event.order_id)
        )
    ).all()
    delivered_minor: int | None = None
    if event.lines and lines:
        price = {sku: (revenue, quantity) for sku, quantity, revenue in lines}
        delivered_minor = 0
        for line in event.lines:
            revenue, quantity = price.get(line.sku, (0, Decimal(1)))
            if quantity:
                delivered_minor += int(
                    (Decimal(revenue) * line.delivered / quantity).to_integral_value(
                        ROUND_HALF_EVEN
                    )
                )
    done = await session.scalar(
        update(OrderFact)
        .where(OrderFact.order_id == event.order_id)
        .values(
            delivered_at=event.delivered_at,
            on_time=event.on_time,
            in_full=event.in_full,
            delivered_minor=(
                delivered_minor if delivered_minor is not None else OrderFact.total_minor
            ),
        )
        .returning(OrderFact.order_id)
    )
    return done is not None
