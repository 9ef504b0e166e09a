"""What the orders API returns for an order."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.domain.lines import line_total
from services.orders.store import orders as store
from services.orders.store.models import Order, OrderTransition, Shipment, ShipmentLine


class LineSourceRead(BaseModel):
    warehouse: str
    quantity: Decimal


class OrderLineRead(BaseModel):
    line_no: int
    sku: str
    name: str | None
    quantity: Decimal
    unit_price_minor: int
    list_price_minor: int | None
    line_total_minor: int
    price_rule: str = Field(description="The pricing rule that produced the price, as snapshot")
    priced_on: date
    price_version: int | None = Field(
        None, description="Pricing's price version that produced the price (null: quoted, offline)"
    )
    delivered_quantity: Decimal | None
    sources: list[LineSourceRead] = Field(
        default_factory=list,
        description="The warehouses holding the line's goods and how much each: a line is split "
        "when its client's preferred warehouse (or the one with the most) has not enough; "
        "empty when nothing was reserved here (an offline order)",
    )


class TransitionRead(BaseModel):
    from_status: str | None
    to_status: str
    at: datetime
    actor: str
    note: str | None


class ShipmentLineRead(BaseModel):
    sku: str
    quantity: Decimal
    delivered_quantity: Decimal | None


class ShipmentRead(BaseModel):
    number: str = Field(description="ERP's shipment number")
    warehouse: str | None
    kind: str = Field(description="stock or made_to_order")
    status: str
    shipped_at: datetime
    delivered_at: datetime | None
    lines: list[ShipmentLineRead]


class OrderSummary(BaseModel):
    id: uuid.UUID
    number: str
    external_id: str | None
    company_id: uuid.UUID
    source: str = Field(description="portal, manager (on behalf of the client) or erp (offline)")
    status: str
    hold_reason: str | None
    currency: str
    total_minor: int
    placed_at: datetime
    promised_from: date | None
    promised_to: date | None
    delivered_at: datetime | None


class OrderRead(OrderSummary):
    placed_by: str
    on_behalf_of_client: bool
    comment: str | None
    quote_id: uuid.UUID | None = Field(description="The accepted quote the order was made from")
    lines: list[OrderLineRead]
    shipments: list[ShipmentRead]
    history: list[TransitionRead]


def summary(order: Order) -> OrderSummary:
    return OrderSummary.model_validate(order, from_attributes=True)


async def read_order(session: AsyncSession, order: Order) -> OrderRead:
    lines = await store.line_rows(session, order.id)
    history = await session.scalars(
        select(OrderTransition)
        .where(OrderTransition.order_id == order.id)
        .order_by(OrderTransition.id)
    )
    return order_read(order, lines, await _shipments(session, order.id), list(history))


ORDER_COLUMNS = [
    name for name in OrderRead.model_fields if name not in ("lines", "shipments", "history")
]
LINE_COLUMNS = [name for name in OrderLineRead.model_fields if name != "line_total_minor"]


def _line(row: Any) -> dict[str, Any]:
    line = {name: getattr(row, name) for name in LINE_COLUMNS}
    line["line_total_minor"] = line_total(row.unit_price_minor, row.quantity)
    return line


def order_read(
    order: Order, lines: Sequence[Any], shipments: list[ShipmentRead], history: Sequence[Any]
) -> OrderRead:
    """The order as the API shows it, from its stored lines (rows) and history (rows or audit
    objects): validated in one pass, not a model built per line."""
    return OrderRead.model_validate(
        {
            **{name: getattr(order, name) for name in ORDER_COLUMNS},
            "lines": [_line(x) for x in lines],
            "shipments": shipments,
            "history": history,
        },
        from_attributes=True,
    )


def placed_order_json(order: Order, lines: Sequence[Any], history: list[dict[str, Any]]) -> bytes:
    """OrderRead's JSON for an order just written (no shipments yet), from plain values through
    orjson: what checkout answers for a 200-line order without a model per line. Decimals are
    written as pydantic writes them (str), UTC times with Z."""
    document = {name: getattr(order, name) for name in ORDER_COLUMNS}
    document["lines"] = [_line(x) for x in lines]
    document["shipments"] = []
    document["history"] = history
    return orjson.dumps(document, default=str, option=orjson.OPT_UTC_Z)


async def _shipments(session: AsyncSession, order_id: uuid.UUID) -> list[ShipmentRead]:
    rows = (
        await session.execute(
            select(Shipment, ShipmentLine)
            .join(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)
            .where(Shipment.order_id == order_id)
            .order_by(Shipment.shipped_at, Shipment.number, ShipmentLine.sku)
        )
    ).all()
    found: dict[uuid.UUID, ShipmentRead] = {}
    for shipment, line in rows:
        if shipment.id not in found:
            found[shipment.id] = ShipmentRead(
                number=shipment.number,
                warehouse=shipment.warehouse,
                kind=shipment.kind,
                status=shipment.status,
                shipped_at=shipment.shipped_at,
                delivered_at=shipment.delivered_at,
                lines=[],
            )
        found[shipment.id].lines.append(
            ShipmentLineRead(
                sku=line.sku, quantity=line.quantity, delivered_quantity=line.delivered_quantity
            )
        )
    return list(found.values())
