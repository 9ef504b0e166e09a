"""Events the orders service publishes.

Every event of an order is keyed by its company, so one company's orders (and each order's
transitions) reach consumers in the order they happened.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from shared.events.envelope import EventContract, register

ORDER_TOPIC = "orders.order"

# Why a client cancels, returns, complains or leaves: the product, our service, the sale itself
# (how it was sold, the time of sale), the price, the delivery, something else.
LossReason = Literal["product", "service", "sale", "price", "delivery", "other"]


class LineSource(BaseModel):
    """Part of an order line held in one warehouse."""

    warehouse: str
    quantity: Decimal


class OrderedLine(BaseModel):
    sku: str
    quantity: Decimal
    unit_price_minor: int
    list_price_minor: int | None
    rule: str
    unit_cost_minor: int | None = Field(
        None, description="Cost of goods per unit when the seller knows it (margin analytics)"
    )
    sources: list[LineSource] = Field(
        default_factory=list,
        description="The warehouses holding the line's goods and how much each (a line may "
        "be split); empty when the order reserved no stock here (an offline order)",
    )


class DeliveredLine(BaseModel):
    sku: str
    ordered: Decimal
    delivered: Decimal


class _OrderEvent(EventContract):
    topic = ORDER_TOPIC
    aggregate_type = "order"
    aggregate_key = "company_id"

    order_id: uuid.UUID
    company_id: uuid.UUID


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
    placed_by: str | None = Field(None, description="The user who placed it (a manager on behalf)")
    on_behalf: bool = Field(False, description="Staff placed it on the client's behalf")
    adds_to_order_id: uuid.UUID | None = Field(
        None, description="The earlier order this one adds to (the same need), if the buyer said"
    )
    need: str | None = Field(None, description="The client's need or project the order serves")


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


DelayReason = Literal["date_moved", "window_missed"]


@register
class OrderDelayedV1(_OrderEvent):
    """A promised delivery slipped: ERP moved the order's promised date later (`date_moved`),
    or the promised window ended with the order not delivered (`window_missed`). Once per
    order and date: the same date moved to again, or the same window checked again, is not
    told twice."""

    event_type = "order.delayed.v1"

    number: str
    reason: DelayReason
    previous_promised_to: date = Field(
        description="The date promised before: the one moved from, or the one missed"
    )
    promised_from: date | None = Field(description="The new window's first day, if any")
    promised_to: date | None = Field(
        description="The date promised now; null when a window was missed and no new date is "
        "known yet"
    )
    note: str | None = Field(None, description="ERP's words on why (its `delay_reason`)")
    delayed_at: datetime


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
    reason_code: LossReason | None = None
    counted: bool = Field(True, description="false: it never was placed, so never counted")
    reservation_id: uuid.UUID | None = None


@register
class OrderDocumentAddedV1(_OrderEvent):
    """ERP attached a document (invoice, waybill, closing, certificate) the client can download."""

    event_type = "order.document_added.v1"

    document_id: uuid.UUID
    kind: str
    number: str | None = None
    issued_on: date | None = None


class ShipmentLine(BaseModel):
    sku: str
    quantity: Decimal
    delivered: Decimal | None = None


@register
class OrderShipmentV1(_OrderEvent):
    """A part of an order left a warehouse (status shipped) or arrived (delivered)."""

    event_type = "order.shipment.v1"

    number: str = Field(description="ERP's shipment number")
    status: str = Field(description="shipped or delivered")
    at: datetime
    warehouse: str | None = None
    kind: str = Field("stock", description="stock or made_to_order")
    lines: list[ShipmentLine] = Field(default_factory=list)


@register
class OrderClaimRecordedV1(_OrderEvent):
    """A client returned goods of an order or complained about it, with the reason."""

    event_type = "order.claim_recorded.v1"

    claim_id: uuid.UUID
    number: str
    kind: Literal["return", "complaint"]
    reason_code: LossReason
    comment: str | None = None
    amount_minor: int | None = Field(None, description="Value returned, in the order's currency")
    currency: str
    recorded_by: str
    recorded_at: datetime


QUOTE_TOPIC = "orders.quote"


class QuotedLine(BaseModel):
    sku: str
    quantity: Decimal
    client_price_minor: int | None = Field(description="The client's price when asked")
    quoted_price_minor: int | None = Field(description="The manager's price; null until offered")


class _QuoteEvent(EventContract):
    """Quote events are keyed by company, like orders: a quote's steps arrive in order."""

    topic = QUOTE_TOPIC
    aggregate_type = "quote"
    aggregate_key = "company_id"

    quote_id: uuid.UUID
    company_id: uuid.UUID
    number: str
    actor: str = Field(description="Who took the step: a user id, or system")
    message: str | None = None


@register
class QuoteRequestedV1(_QuoteEvent):
    """A buyer asked for a quote on a cart (or asked again after changes)."""

    event_type = "quote.requested.v1"

    currency: str
    lines: list[QuotedLine] = Field(default_factory=list)


@register
class QuoteOfferedV1(_QuoteEvent):
    """A sales manager offered prices, valid through `valid_until` (inclusive, UTC)."""

    event_type = "quote.offered.v1"

    currency: str
    total_minor: int
    valid_until: date
    revision: int = Field(description="1 for the first offer, +1 for each offer after changes")
    lines: list[QuotedLine] = Field(default_factory=list)


@register
class QuoteOpenedV1(_QuoteEvent):
    """The client first looked at an offer revision (later looks are not events)."""

    event_type = "quote.opened.v1"

    revision: int


@register
class QuoteChangesRequestedV1(_QuoteEvent):
    event_type = "quote.changes_requested.v1"

    revision: int


@register
class QuoteDeclinedV1(_QuoteEvent):
    """The sales manager will not quote; the message says why."""

    event_type = "quote.declined.v1"


@register
class QuoteAcceptedV1(_QuoteEvent):
    """The client accepted an offer: it became the order, at the quoted prices."""

    event_type = "quote.accepted.v1"

    revision: int
    order_id: uuid.UUID
    total_minor: int


REQUISITION_TOPIC = "orders.requisition"


class ListRef(BaseModel):
    list_id: uuid.UUID
    name: str


class BackInStock(BaseModel):
    sku: str
    name: str
    available: Decimal = Field(description="Available now, over every warehouse")


@register
class RequisitionStockBackV1(EventContract):
    """A SKU that had no available stock in any warehouse has some again, and this company keeps
    it on one or more of its requisition lists. One event per company and return to stock."""

    event_type = "requisition.stock_back.v1"
    topic = REQUISITION_TOPIC
    aggregate_type = "company"
    aggregate_key = "company_id"

    company_id: uuid.UUID
    skus: list[BackInStock]
    lists: list[ListRef] = Field(description="The company's lists that hold the SKUs")
    back_at: datetime
