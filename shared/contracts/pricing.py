"""Events the pricing service publishes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from shared.events.envelope import EventContract, register

PRICE_TOPIC = "pricing.price"


@register
class PriceChangedV1(EventContract):
    """Prices changed: one event per feed or edit, summarising what it touched.

    A 100 M-row matrix snapshot is one event (`matrix: true`), never one per row. Consumers
    re-read prices through the resolve API for the clients and lists named.
    """

    event_type = "price.changed.v1"
    topic = PRICE_TOPIC
    aggregate_type = "price_change"

    change_id: uuid.UUID
    cause: str = Field(description="feed:<job id>, or the edit, e.g. price_list.updated")
    matrix: bool = Field(False, description="many or all clients' own prices changed: re-read all")
    list_codes: list[str] = Field(default_factory=list, description="lists whose prices changed")
    client_ids: list[uuid.UUID] = Field(
        default_factory=list, description="companies whose own prices or policy changed"
    )
    policy: bool = Field(False, description="floors, promotions or ladders changed")
    sku_from: str | None = Field(None, description="lowest SKU code touched")
    sku_to: str | None = Field(None, description="highest SKU code touched")
    rows: int = Field(0, description="rows the change wrote or removed")
    changed_at: datetime

    def aggregate_id(self) -> str:
        return str(self.change_id)
