"""Events the orders service publishes.

Every event of an order is keyed by its company, so one company's orders (and each order's
transitions) reach consumers in the order they happened.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from shared.events.envelope import EventContract, register

ORDER_TOPIC = "orders.order"


class OrderedLine(BaseModel):
    sku: str
    quantity: Decimal
    unit_price_minor: int
    list_price_minor: int | None
    rule: str
    unit_cost_minor: int | None = Field(
        None, description="Cost of goods per unit when the seller knows it (margin analytics)"
    )


class DeliveredLine(BaseModel):
    sku: str
    ordered: Decimal
    delivered: Decimal


class _OrderEvent(EventContract):
    topic = ORDER_TOPIC
    aggregate_type = "order"

    order_id: uuid.UUID
    company_id: uuid.UUID

    def aggregate_id(self) -> str:
        return str(self.company_id)


@register
class OrderPlacedV1(_OrderEvent):
    """A client placed an order (portal, a manager on its behalf, or offline through ERP); its
    total counts toward the client's turnover."""

    event_type = "order.placed.v1"

    currency: str
    total_minor: int
    placed_at: datetime
    number: str = ""
    source: str = Field("portal", description="portal, manager or erp (offline)")
    lines: list[OrderedLine] = Field(default_factory=list)
    promised_from: date | None = None
    promised_to: date | None = None


@register
class OrderConfirmedV1(_OrderEvent):
    """ERP accepted the order and promised a delivery window."""

    event_type = "order.confirmed.v1"

    number: str
    confirmed_at: datetime
    promised_from: date | None
    promised_to: date | None


@register
class OrderShippedV1(_OrderEvent):
    event_type = "order.shipped.v1"

    number: str
    shipped_at: datetime
    reservation_id: uuid.UUID | None = Field(None, description="Stock catalog may now let go")


@register
class OrderDeliveredV1(_OrderEvent):
    """Delivered: the date and quantities against the promise, for on-time-in-full."""

    event_type = "order.delivered.v1"

    number: str
    delivered_at: datetime
    promised_to: date | None
    on_time: bool | None = Field(description="null: no promise was made")
    in_full: bool
    lines: list[DeliveredLine]
    reservation_id: uuid.UUID | None = None


@register
class OrderCancelledV1(_OrderEvent):
    """A placed order was cancelled; its total no longer counts toward turnover."""

    event_type = "order.cancelled.v1"

    currency: str
    total_minor: int
    placed_at: datetime
    cancelled_at: datetime
    number: str = ""
    reason: str = ""
    counted: bool = Field(True, description="false: it never was placed, so never counted")
    reservation_id: uuid.UUID | None = None
