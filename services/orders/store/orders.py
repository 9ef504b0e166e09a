"""Orders: creation with their price snapshots, transitions with their audit trail and events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.domain.lifecycle import check_transition
from services.orders.store.models import Order, OrderLine, OrderTransition
from shared.contracts.orders import (
    DeliveredLine,
    OrderCancelledV1,
    OrderConfirmedV1,
    OrderDeliveredV1,
    OrderedLine,
    OrderPlacedV1,
    OrderShippedV1,
)
from shared.db import utcnow
from shared.events.outbox import record_event

# SO- and the sequence's next value, at least eight digits.
NUMBER = (
    select(literal_column("'SO-' || lpad(n::text, greatest(8, length(n::text)), '0')"))
    .select_from(text("nextval('order_numbers') AS n"))
    .scalar_subquery()
)


async def next_number(session: AsyncSession) -> str:
    return str(await session.scalar(select(NUMBER)))


async def insert_order(session: AsyncSession, values: dict[str, Any]) -> str:
    """The order row in one statement, numbered from the sequence; returns its number."""
    return str(
        await session.scalar(insert(Order).values(**values, number=NUMBER).returning(Order.number))
    )


# Every line in one statement from columns (not a row per line), its unit cost from the
# product when ERP gives it in the order's currency, and the stored lines returned: the event
# and the response are made of what was written.
PLACE_LINES = text(
    """
    INSERT INTO order_lines (order_id, line_no, sku, name, quantity, unit_price_minor,
                             list_price_minor, price_rule, priced_on, price_version,
                             unit_cost_minor)
    SELECT :order_id, l.line_no, l.sku, l.name, l.quantity, l.unit_price_minor,
           l.list_price_minor, l.price_rule, :priced_on, :price_version, p.cost_minor
    FROM unnest(CAST(:skus AS text[]), CAST(:names AS text[]), CAST(:quantities AS numeric[]),
                CAST(:unit_prices AS bigint[]), CAST(:list_prices AS bigint[]),
                CAST(:rules AS text[])) WITH ORDINALITY
         AS l(sku, name, quantity, unit_price_minor, list_price_minor, price_rule, line_no)
    LEFT JOIN products p ON p.sku = l.sku AND p.cost_currency = :currency
    RETURNING *
    """
)


async def place_lines(
    session: AsyncSession,
    order_id: uuid.UUID,
    currency: str,
    priced_on: date,
    price_version: int | None,
    columns: dict[str, list[Any]],
) -> list[Any]:
    """The order's lines with their price snapshots, numbered in the order given; `columns`
    holds skus, names, quantities, unit_prices, list_prices and rules."""
    rows = await session.execute(
        PLACE_LINES,
        {
            "order_id": order_id,
            "currency": currency,
            "priced_on": priced_on,
            "price_version": price_version,
            **columns,
        },
    )
    return sorted(rows.all(), key=lambda row: row.line_no)


async def add_lines(
    session: AsyncSession, order_id: uuid.UUID, lines: list[dict[str, Any]]
) -> None:
    """All lines in one statement; each dict holds OrderLine's columns but order_id."""
    if lines:
        await session.execute(
            insert(OrderLine),
            [{"order_id": order_id, "line_no": i, **x} for i, x in enumerate(lines, 1)],
        )


async def lines_of(session: AsyncSession, order_id: uuid.UUID) -> list[OrderLine]:
    """The lines as ORM objects, for changing them (delivery)."""
    return list(
        await session.scalars(
            select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_no)
        )
    )


async def line_rows(session: AsyncSession, order_id: uuid.UUID) -> list[Any]:
    """The lines as plain rows, for reading: a 5,000-line order builds no ORM objects."""
    table = OrderLine.__table__
    result = await session.execute(
        select(table).where(table.c.order_id == order_id).order_by(table.c.line_no)
    )
    return list(result.all())


async def emit_placed(
    session: AsyncSession, order: Order, lines: Sequence[Any] | None = None
) -> None:
    """order.placed with every line; `lines` as stored, when the caller has them already."""
    if lines is None:
        lines = await line_rows(session, order.id)
    record_event(
        session,
        OrderPlacedV1(
            order_id=order.id,
            company_id=order.company_id,
            number=order.number,
            source=order.source,
            currency=order.currency,
            total_minor=order.total_minor,
            placed_at=order.placed_at,
            promised_from=order.promised_from,
            promised_to=order.promised_to,
            placed_by=order.placed_by,
            on_behalf=order.on_behalf_of_client,
            adds_to_order_id=order.adds_to_order_id,
            need=order.need,
            lines=[
                OrderedLine(
                    sku=x.sku,
                    quantity=x.quantity,
                    unit_price_minor=x.unit_price_minor,
                    list_price_minor=x.list_price_minor,
                    rule=x.price_rule,
                    unit_cost_minor=x.unit_cost_minor,
                )
                for x in lines
            ],
        ),
    )


async def open_order(
    session: AsyncSession,
    order: Order,
    actor: str,
    note: str | None,
    lines: Sequence[Any] | None = None,
) -> None:
    """The first line of the audit trail; order.placed if nothing holds the order back."""
    session.add(
        OrderTransition(
            order_id=order.id,
            from_status=None,
            to_status=order.status,
            at=order.placed_at,
            actor=actor,
            note=note,
        )
    )
    if order.status == "placed":
        await emit_placed(session, order, lines)


async def move(
    session: AsyncSession,
    order: Order,
    wanted: str,
    actor: str,
    *,
    at: datetime | None = None,
    note: str | None = None,
    promised: tuple[date | None, date | None] | None = None,
    delivered: dict[str, Decimal] | None = None,
    reason_code: str | None = None,
) -> bool:
    """Moves the order (TransitionRefused if it may not), records the audit row and the event.
    False when the order already was in that status (a repeated ERP update)."""
    check_transition(order.status, wanted)
    if promised is not None and any(promised):
        order.promised_from, order.promised_to = promised
    if wanted == order.status:
        return False
    at = at or utcnow()
    was = order.status
    session.add(
        OrderTransition(
            order_id=order.id, from_status=was, to_status=wanted, at=at, actor=actor, note=note
        )
    )
    order.status, order.updated_at = wanted, utcnow()
    base = {"order_id": order.id, "company_id": order.company_id, "number": order.number}
    if wanted == "placed":
        await emit_placed(session, order)
    elif wanted == "confirmed":
        order.confirmed_at = at
        record_event(
            session,
            OrderConfirmedV1(
                **base,
                confirmed_at=at,
                promised_from=order.promised_from,
                promised_to=order.promised_to,
            ),
        )
    elif wanted == "shipped":
        order.shipped_at = at
        record_event(
            session, OrderShippedV1(**base, shipped_at=at, reservation_id=order.reservation_id)
        )
    elif wanted == "delivered":
        order.delivered_at = at
        await _deliver(session, order, at, delivered)
    elif wanted == "cancelled":
        order.cancelled_at = at
        order.cancel_reason_code = reason_code
        record_event(
            session,
            OrderCancelledV1(
                **base,
                currency=order.currency,
                total_minor=order.total_minor,
                placed_at=order.placed_at,
                cancelled_at=at,
                reason=note or "",
                reason_code=reason_code,
                counted=was not in ("pending_approval", "credit_hold"),
                reservation_id=order.reservation_id,
            ),
        )
    await session.flush()
    return True


async def _deliver(
    session: AsyncSession, order: Order, at: datetime, delivered: dict[str, Decimal] | None
) -> None:
    """Delivered quantities per SKU (all ordered, when ERP names none), and the OTIF facts."""
    lines = await lines_of(session, order.id)
    for line in lines:
        line.delivered_quantity = (
            line.quantity if delivered is None else delivered.get(line.sku, Decimal(0))
        )
    in_full = all(
        x.delivered_quantity is not None and x.delivered_quantity >= x.quantity for x in lines
    )
    on_time = None if order.promised_to is None else at.date() <= order.promised_to
    record_event(
        session,
        OrderDeliveredV1(
            order_id=order.id,
            company_id=order.company_id,
            number=order.number,
            delivered_at=at,
            promised_to=order.promised_to,
            on_time=on_time,
            in_full=in_full,
            reservation_id=order.reservation_id,
            lines=[
                DeliveredLine(
                    sku=x.sku, ordered=x.quantity, delivered=x.delivered_quantity or Decimal(0)
                )
                for x in lines
            ],
        ),
    )
