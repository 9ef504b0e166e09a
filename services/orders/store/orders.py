"""Orders: creation with their price snapshots, transitions with their audit trail and events."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.domain.delays import on_time as delivered_on_time
from services.orders.domain.lifecycle import moves
from services.orders.store import delays
from services.orders.store.models import Order, OrderLine, OrderTransition
from shared.clock import utcnow
from shared.contracts.orders import (
    DeliveredLine,
    OrderCancelledV1,
    OrderConfirmedV1,
    OrderDeliveredV1,
    OrderPlacedV1,
    OrderShippedV1,
)
from shared.events.envelope import EventContract
from shared.events.outbox import record_event

# SO- and the sequence's next value, at least eight digits.
NEXT_NUMBER = (
    "SELECT 'SO-' || lpad(n::text, greatest(8, length(n::text)), '0') "
    "FROM nextval('order_numbers') AS n"
)


async def next_number(session: AsyncSession) -> str:
    return str(await session.scalar(text(NEXT_NUMBER)))


# The order (numbered from the sequence), its first audit row and every line in one
# statement; lines from columns (not a row per line), each with its unit cost when ERP gives
# it in the order's currency. The stored lines come back: the event and the answer are made
# of what was written.
PLACE_ORDER = text(
    f"""
    WITH placed AS (
        INSERT INTO orders (id, number, company_id, source, placed_by, on_behalf_of_client,
                            status, hold_reason, currency, total_minor, comment, reservation_id,
                            quote_id, adds_to_order_id, need, placed_at, updated_at)
        VALUES (:id, ({NEXT_NUMBER}), :company_id, :source, :placed_by, :on_behalf_of_client,
                :status, :hold_reason, :currency, :total_minor, :comment, :reservation_id,
                :quote_id, :adds_to_order_id, :need, :placed_at, :updated_at)
        RETURNING id, number
    ), audit AS (
        INSERT INTO order_transitions (order_id, from_status, to_status, at, actor, note)
        SELECT id, NULL, :status, :placed_at, :actor, :note FROM placed
    ), lines AS (
        INSERT INTO order_lines (order_id, line_no, sku, name, quantity, unit_price_minor,
                                 list_price_minor, price_rule, priced_on, price_version,
                                 unit_cost_minor, sources)
        SELECT placed.id, l.line_no, l.sku, l.name, l.quantity, l.unit_price_minor,
               l.list_price_minor, l.price_rule, :priced_on, :price_version, p.cost_minor,
               CAST(l.sources AS jsonb)
        FROM placed
        CROSS JOIN unnest(CAST(:skus AS text[]), CAST(:names AS text[]),
                          CAST(:quantities AS numeric[]), CAST(:unit_prices AS bigint[]),
                          CAST(:list_prices AS bigint[]), CAST(:rules AS text[]),
                          CAST(:sources AS text[]))
             WITH ORDINALITY
             AS l(sku, name, quantity, unit_price_minor, list_price_minor, price_rule, sources,
                  line_no)
        LEFT JOIN products p ON p.sku = l.sku AND p.cost_currency = :currency
        RETURNING *
    )
    SELECT (SELECT number FROM placed) AS order_number, lines.* FROM lines ORDER BY line_no
    """
)


async def place_order(
    session: AsyncSession,
    order: dict[str, Any],
    actor: str,
    note: str | None,
    priced_on: date,
    price_version: int | None,
    lines: dict[str, list[Any]],
) -> tuple[str, list[Any]]:
    """Writes the order (`order` holds its columns but the number), the audit row of its first
    status and its lines with their price snapshots, numbered in the order given (`lines`
    holds skus, names, quantities, unit_prices, list_prices, rules and sources, each line's
    as JSON text). Returns the order's number and its lines as stored."""
    rows = (
        await session.execute(
            PLACE_ORDER,
            {
                **order,
                "actor": actor,
                "note": note,
                "priced_on": priced_on,
                "price_version": price_version,
                **lines,
            },
        )
    ).all()
    return rows[0].order_number, rows


async def add_lines(
    session: AsyncSession, order_id: uuid.UUID, lines: list[dict[str, Any]]
) -> None:
    """All lines in one statement; each dict holds OrderLine's columns but order_id."""
    await insert_lines(session, OrderLine, {"order_id": order_id}, lines)


async def lines_of(session: AsyncSession, order_id: uuid.UUID) -> list[OrderLine]:
    """The lines as ORM objects, for changing them (delivery)."""
    return await lines_in_order(session, OrderLine.order_id, order_id)


async def insert_lines(
    session: AsyncSession, model: type[Any], owner: dict[str, Any], lines: list[dict[str, Any]]
) -> None:
    """An order's or a quote's lines in one statement, numbered from 1 as given; each dict
    holds the model's columns but the owner's and the number."""
    if lines:
        numbered = [{**owner, "line_no": i, **x} for i, x in enumerate(lines, 1)]
        await session.execute(insert(model), numbered)


async def lines_in_order(session: AsyncSession, owner: Any, owner_id: uuid.UUID) -> list[Any]:
    """The lines whose `owner` column (OrderLine.order_id, QuoteLine.quote_id) is `owner_id`,
    by number."""
    model = owner.class_
    stmt = select(model).where(owner == owner_id).order_by(model.line_no)
    return list(await session.scalars(stmt))


async def line_rows(session: AsyncSession, order_id: uuid.UUID) -> list[Any]:
    """The lines as plain rows, for reading: a 5,000-line order builds no ORM objects."""
    table = OrderLine.__table__
    result = await session.execute(
        select(table).where(table.c.order_id == order_id).order_by(table.c.line_no)
    )
    return list(result.all())


def record_order_event(
    session: AsyncSession, contract: Callable[..., EventContract], order: Any, **fields: Any
) -> None:
    """One of an order's events: which order, whose, its number, and what its kind adds.
    `order`: an Order, or a row read with its id, company_id and number."""
    record_event(
        session,
        contract(order_id=order.id, company_id=order.company_id, number=order.number, **fields),
    )


async def emit_placed(
    session: AsyncSession, order: Order, lines: Sequence[Any] | None = None
) -> None:
    """order.placed with every line; `lines` as stored, when the caller has them already."""
    if lines is None:
        lines = await line_rows(session, order.id)
    # Validated from plain dicts in one pass: a 200-line order builds no line model by hand.
    record_event(
        session,
        OrderPlacedV1.model_validate(
            {
                "order_id": order.id,
                "company_id": order.company_id,
                "number": order.number,
                "source": order.source,
                "currency": order.currency,
                "total_minor": order.total_minor,
                "placed_at": order.placed_at,
                "promised_from": order.promised_from,
                "promised_to": order.promised_to,
                "placed_by": order.placed_by,
                "on_behalf": order.on_behalf_of_client,
                "adds_to_order_id": order.adds_to_order_id,
                "need": order.need,
                "lines": [
                    {
                        "sku": x.sku,
                        "quantity": x.quantity,
                        "unit_price_minor": x.unit_price_minor,
                        "list_price_minor": x.list_price_minor,
                        "rule": x.price_rule,
                        "unit_cost_minor": x.unit_cost_minor,
                        "sources": x.sources,
                    }
                    for x in lines
                ],
            }
        ),
    )


async def open_order(session: AsyncSession, order: Order, actor: str, note: str | None) -> None:
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
        await emit_placed(session, order)


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
    False when the update changes nothing: the order already is in that status, or, for an
    update stamped `at` (ERP's), went through it at that time or skipped it earlier
    (domain.lifecycle.moves)."""
    reached = {
        "confirmed": order.confirmed_at,
        "shipped": order.shipped_at,
        "delivered": order.delivered_at,
        "cancelled": order.cancelled_at,
    }
    moving = moves(order.status, wanted, at, reached)
    if promised is not None and any(promised) and (moving or wanted == order.status):
        order.promised_from, order.promised_to = promised
    if not moving:
        return False
    at = at or utcnow()
    was = order.status
    session.add(
        OrderTransition(
            order_id=order.id, from_status=was, to_status=wanted, at=at, actor=actor, note=note
        )
    )
    order.status, order.updated_at = wanted, utcnow()
    if wanted == "placed":
        await emit_placed(session, order)
    elif wanted == "confirmed":
        order.confirmed_at = at
        record_order_event(
            session,
            OrderConfirmedV1,
            order,
            confirmed_at=at,
            promised_from=order.promised_from,
            promised_to=order.promised_to,
        )
    elif wanted == "shipped":
        order.shipped_at = at
        record_order_event(
            session, OrderShippedV1, order, shipped_at=at, reservation_id=order.reservation_id
        )
    elif wanted == "delivered":
        order.delivered_at = at
        await _deliver(session, order, at, delivered)
    elif wanted == "cancelled":
        order.cancelled_at = at
        order.cancel_reason_code = reason_code
        record_order_event(
            session,
            OrderCancelledV1,
            order,
            currency=order.currency,
            total_minor=order.total_minor,
            placed_at=order.placed_at,
            cancelled_at=at,
            reason=note or "",
            reason_code=reason_code,
            counted=was not in ("pending_approval", "credit_hold"),
            reservation_id=order.reservation_id,
        )
    await session.flush()
    return True


async def _deliver(
    session: AsyncSession, order: Order, at: datetime, delivered: dict[str, Decimal] | None
) -> None:
    """Delivered quantities per SKU (all ordered, when ERP names none), and the OTIF facts:
    on time by the earliest date promised, whatever ERP moved it to (domain/delays.py)."""
    lines = await lines_of(session, order.id)
    for line in lines:
        line.delivered_quantity = (
            line.quantity if delivered is None else delivered.get(line.sku, Decimal(0))
        )
    in_full = all(
        x.delivered_quantity is not None and x.delivered_quantity >= x.quantity for x in lines
    )
    moved_from = (
        None if order.promised_to is None else await delays.earliest_moved_from(session, order.id)
    )
    on_time = delivered_on_time(at.date(), order.promised_to, moved_from)
    record_order_event(
        session,
        OrderDeliveredV1,
        order,
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
    )


async def restate_sources(
    session: AsyncSession, order_id: uuid.UUID, sources: Sequence[list[dict[str, str]]]
) -> None:
    """Where each line's goods are held now (catalog held them again, maybe elsewhere), in
    line order, as JSON per line: one statement."""
    await session.execute(
        text(
            "UPDATE order_lines l SET sources = CAST(s.sources AS jsonb) "
            "FROM unnest(CAST(:sources AS text[])) WITH ORDINALITY AS s(sources, line_no) "
            "WHERE l.order_id = :id AND l.line_no = s.line_no"
        ),
        {"id": order_id, "sources": [orjson.dumps(x).decode() for x in sources]},
    )
