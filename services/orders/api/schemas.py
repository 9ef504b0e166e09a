"""What the orders API returns for an order, and the shapes several routers share (ERP's
batch results, what adding lines reports)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import orjson
from fastapi import Header
from pydantic import BaseModel, Field

from services.orders.domain.lifecycle import TRANSITIONS
from services.orders.domain.lines import line_total
from services.orders.store.models import Order
from services.orders.usecases.carts import Added
from services.orders.usecases.orders import OrderView
from shared.apiconventions import examples
from shared.auth import Role
from shared.batches import APPLIED, UNCHANGED, Batch
from shared.fields import QuantityOrZero, Sku
from shared.problems import RowNumber
from shared.reads import read_of


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


# The order's statuses, as its state machine has them (domain/lifecycle.py).
OrderStatus = Literal[tuple(TRANSITIONS)]  # type: ignore[valid-type]


class TransitionRead(BaseModel):
    from_status: OrderStatus | None
    to_status: OrderStatus
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
    kind: Literal["stock", "made_to_order"]
    status: Literal["shipped", "delivered"]
    shipped_at: datetime
    delivered_at: datetime | None
    lines: list[ShipmentLineRead]


# Alpha's order from the portal, as placed.
PLACED = {
    "id": "2f1c9d3e-5b7a-4c1d-9e8f-6a5b4c3d2e1f",
    "number": "SO-00000123",
    "external_id": None,
    "company_id": "7b3f6a52-9a4e-4f1e-8a31-0c2d9b6e5f10",
    "source": "portal",
    "status": "placed",
    "hold_reason": None,
    "currency": "EUR",
    "total_minor": 64600,
    "placed_at": "2026-12-06T10:15:00Z",
    "promised_from": None,
    "promised_to": None,
    "delivered_at": None,
}


# Once ERP confirmed it with the delivery window (POST /erp/order-updates).
@examples(
    {**PLACED, "status": "confirmed", "promised_from": "2026-12-08", "promised_to": "2026-12-09"}
)
class OrderSummary(BaseModel):
    id: uuid.UUID
    number: str
    external_id: str | None
    company_id: uuid.UUID
    source: Literal["portal", "manager", "erp"] = Field(
        description="portal, manager (on behalf of the client) or erp (offline)"
    )
    status: OrderStatus
    hold_reason: str | None
    currency: str
    total_minor: int
    placed_at: datetime
    promised_from: date | None
    promised_to: date | None
    delivered_at: datetime | None


@examples(
    {
        **PLACED,
        "placed_by": "5d2e8f41-0c6b-4a7e-b3d9-1f2a3b4c5d6e",
        "on_behalf_of_client": False,
        "comment": "Deliver to gate 3, mornings only",
        "quote_id": None,
        "lines": [
            {
                "line_no": 1,
                "sku": "KN-100",
                "name": "Knauf board 12.5 mm",
                "quantity": "20",
                "unit_price_minor": 480,
                "list_price_minor": 480,
                "line_total_minor": 9600,
                "price_rule": "base_list:BASE",
                "priced_on": "2026-12-06",
                "price_version": 42,
                "delivered_quantity": None,
                "sources": [{"warehouse": "MAIN", "quantity": "20"}],
            },
            {
                "line_no": 2,
                "sku": "CE-200",
                "name": "Ceresit CE 200 grout",
                "quantity": "50",
                "unit_price_minor": 1100,
                "list_price_minor": 1100,
                "line_total_minor": 55000,
                "price_rule": "base_list:BASE",
                "priced_on": "2026-12-06",
                "price_version": 42,
                "delivered_quantity": None,
                "sources": [{"warehouse": "MAIN", "quantity": "50"}],
            },
        ],
        "shipments": [],
        "history": [
            {
                "from_status": None,
                "to_status": "placed",
                "at": "2026-12-06T10:15:00Z",
                "actor": "5d2e8f41-0c6b-4a7e-b3d9-1f2a3b4c5d6e",
                "note": None,
            }
        ],
    }
)
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


ORDER_COLUMNS = [
    name for name in OrderRead.model_fields if name not in ("lines", "shipments", "history")
]
LINE_COLUMNS = [name for name in OrderLineRead.model_fields if name != "line_total_minor"]


def _line(row: Any) -> dict[str, Any]:
    line = {name: getattr(row, name) for name in LINE_COLUMNS}
    line["line_total_minor"] = line_total(row.unit_price_minor, row.quantity)
    return line


def _shipment(shipment: Any, lines: Sequence[Any]) -> ShipmentRead:
    return read_of(
        ShipmentRead,
        shipment,
        lines=[ShipmentLineRead.model_validate(x, from_attributes=True) for x in lines],
    )


def order_read(view: OrderView) -> OrderRead:
    """The order as the API shows it, from its stored lines (rows) and history (rows or audit
    objects): validated in one pass, not a model built per line."""
    return OrderRead.model_validate(
        {
            **{name: getattr(view.order, name) for name in ORDER_COLUMNS},
            "lines": [_line(x) for x in view.lines],
            "shipments": [_shipment(s, lines) for s, lines in view.shipments],
            "history": view.history,
        },
        from_attributes=True,
    )


def placed_order_json(view: OrderView) -> bytes:
    """OrderRead's JSON for an order just written (no shipments yet), from plain values through
    orjson: what checkout answers for a 200-line order without a model per line. Decimals are
    written as pydantic writes them (str), UTC times with Z."""
    document = {name: getattr(view.order, name) for name in ORDER_COLUMNS}
    document["lines"] = [_line(x) for x in view.lines]
    document["shipments"] = []
    document["history"] = view.history
    return orjson.dumps(document, default=str, option=orjson.OPT_UTC_Z)


# Placing an order (a checkout, an accepted quote) takes an Idempotency-Key: a retry after a
# lost answer gets the order back instead of a second one.
IdempotencyKey = Annotated[str | None, Header(max_length=200)]
KEY_MISSING: dict[int | str, dict[str, Any]] = {
    428: {"description": "Idempotency-Key header missing"}
}


# ERP's batches: the orders it names and what came of each row.
ERP = (Role.INTEGRATOR, Role.ADMIN)
MAX_BATCH = 5_000


class DeliveredQuantity(BaseModel):
    sku: Sku
    quantity: QuantityOrZero


class Rejected(BaseModel):
    row: RowNumber
    order: str
    reason: str


@examples(
    {
        "applied": 1,
        "unchanged": 0,
        "rejected": [
            {
                "row": 2,
                "order": "SO-00000118",
                "reason": "a cancelled order cannot become delivered (allowed: nothing)",
            }
        ],
    }
)
class UpdatesResult(BaseModel):
    applied: int
    unchanged: int = Field(
        description="Updates that changed nothing: the status the order is in, one it went "
        "through at that same time (a batch sent again), or a step it skipped reported late"
    )
    rejected: list[Rejected]


# Said by both of ERP's batch endpoints, whose body has a `mode`.
BATCH_REFUSED: dict[int | str, dict[str, Any]] = {
    422: {"description": "all_or_nothing and some rows are bad: nothing changed"}
}


def updates_result(batch: Batch) -> UpdatesResult:
    return UpdatesResult(
        applied=batch.count(APPLIED),
        unchanged=batch.count(UNCHANGED),
        rejected=[
            Rejected(row=o.row, order=o.key, reason=p.message)
            for o in batch.rejected
            for p in o.problems
        ],
    )


# Adding lines to a cart or a list (quick order, a list, a past order).
class LineProblemRead(BaseModel):
    row: RowNumber
    sku: str
    field: str
    reason: str


class QuickOrderResult(BaseModel):
    added: int = Field(description="Lines added or increased")
    problems: list[LineProblemRead]


# Said by the endpoints that make a cart or a list for the client a staff member names.
NOT_THEIR_CLIENT: dict[int | str, dict[str, Any]] = {
    404: {"description": "A company_id the caller does not act for"}
}
# Said by every endpoint that adds lines to a cart or a list.
TOO_MANY_LINES: dict[int | str, dict[str, Any]] = {
    409: {"description": "More lines than a cart or list may hold"}
}


def added(result: Added) -> QuickOrderResult:
    return QuickOrderResult(
        added=result.added, problems=[LineProblemRead(**vars(p)) for p in result.problems]
    )
