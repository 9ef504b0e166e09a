"""Events the catalog service publishes."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from shared.events.envelope import EventContract, register

PRODUCT_TOPIC = "catalog.product"
STOCK_TOPIC = "catalog.stock"


@register
class ProductUpsertedV1(EventContract):
    """A product was created or its master data changed."""

    event_type = "product.upserted.v1"
    topic = PRODUCT_TOPIC
    aggregate_type = "product"
    aggregate_key = "sku"

    sku: str
    name: str
    brand: str | None
    category: str | None
    unit: str
    sellable: bool
    min_order_qty: Decimal = Decimal(1)
    order_multiple: Decimal = Decimal(1)
    replacement_sku: str | None = None
    cost_minor: int | None = Field(
        None, description="Cost of goods per base unit (internal: for margins, not for buyers)"
    )
    cost_currency: str | None = None
    supply: Literal["stock", "made_to_order", "both"] = Field(
        "stock", description="From stock, made to order (lead time, batches) or both"
    )
    lead_time_days: int | None = Field(None, description="Production lead time, when produced")
    min_batch: Decimal | None = Field(None, description="Smallest production batch, base unit")
    batch_multiple: Decimal | None = Field(None, description="Production in multiples of it")
    weight_kg: Decimal | None = Field(None, description="Weight of one base unit")
    volume_m3: Decimal | None = Field(None, description="Volume of one base unit")
    updated_at: datetime


@register
class StockChangedV1(EventContract):
    """A SKU's stock in a warehouse changed (ERP stock feed, a reservation or its release)."""

    event_type = "stock.changed.v1"
    topic = STOCK_TOPIC
    aggregate_type = "stock"
    aggregate_key = "sku"

    sku: str
    warehouse: str
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    changed_at: datetime


class ReservedLine(BaseModel):
    sku: str
    warehouse: str
    quantity: Decimal


@register
class StockReservedV1(EventContract):
    """Stock was held for a checkout until `expires_at`."""

    event_type = "stock.reserved.v1"
    topic = STOCK_TOPIC
    aggregate_type = "reservation"
    aggregate_key = "reservation_id"

    reservation_id: uuid.UUID
    reference: str
    lines: list[ReservedLine]
    expires_at: datetime


@register
class StockReleasedV1(EventContract):
    """A reservation ended: released by the caller, expired unconfirmed, or shipped (its goods
    left the warehouse, so on hand fell by as much as reserved did)."""

    event_type = "stock.released.v1"
    topic = STOCK_TOPIC
    aggregate_type = "reservation"
    aggregate_key = "reservation_id"

    reservation_id: uuid.UUID
    reference: str
    reason: str  # released | expired | shipped
    lines: list[ReservedLine]
