"""Events the orders service publishes."""

from __future__ import annotations

import uuid
from datetime import datetime

from shared.events.envelope import EventContract, register

ORDER_TOPIC = "orders.order"


@register
class OrderPlacedV1(EventContract):
    """A client placed an order; its total counts toward the client's turnover."""

    event_type = "order.placed.v1"
    topic = ORDER_TOPIC
    aggregate_type = "order"

    order_id: uuid.UUID
    company_id: uuid.UUID
    currency: str
    total_minor: int
    placed_at: datetime

    def aggregate_id(self) -> str:
        return str(self.company_id)


@register
class OrderCancelledV1(EventContract):
    """A placed order was cancelled; its total no longer counts toward turnover."""

    event_type = "order.cancelled.v1"
    topic = ORDER_TOPIC
    aggregate_type = "order"

    order_id: uuid.UUID
    company_id: uuid.UUID
    currency: str
    total_minor: int
    placed_at: datetime
    cancelled_at: datetime

    def aggregate_id(self) -> str:
        return str(self.company_id)
