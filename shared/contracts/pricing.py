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


@register
class PriceVersionAppliedV1(EventContract):
    """A price version was applied: a price feed (approved, or past guardrails an authorised
    person overrode with a reason), or the rollback of an earlier version. Fires beside the
    `price.changed` of the same change; this one says who, why, and how to undo it."""

    event_type = "price.version_applied.v1"
    topic = PRICE_TOPIC
    aggregate_type = "price_version"

    version: int = Field(description="The version number; GET /price-versions/{version}")
    cause: str = Field(description="feed:<job id>, or rollback:<version>")
    rollback_of: int | None = Field(None, description="The version this one undid")
    rows_added: int = 0
    rows_changed: int = 0
    rows_removed: int = 0
    list_codes: list[str] = Field(default_factory=list)
    client_ids: list[uuid.UUID] = Field(default_factory=list)
    created_by: str
    approved_by: str | None = None
    override_by: str | None = None
    override_reason: str | None = None
    applied_at: datetime

    def aggregate_id(self) -> str:
        return str(self.version)
