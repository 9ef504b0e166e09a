"""Events the analytics service publishes."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from shared.events.envelope import EventContract, register

CLIENT_TOPIC = "analytics.client"


class SegmentChange(BaseModel):
    dimension: str = Field(
        description="abc_revenue, abc_margin, xyz, rfm_segment, regularity, check_tier, "
        "ladder, payment_behaviour or concentration"
    )
    previous: str | None
    current: str | None


@register
class ClientSegmentChangedV1(EventContract):
    """A recompute (after an order, a delivery, feedback, or the periodic full one) moved a
    client to another segment in one or more dimensions; one event per client and recompute,
    listing every dimension that changed. Not sent when nothing changed."""

    event_type = "client.segment_changed.v1"
    topic = CLIENT_TOPIC
    aggregate_type = "client"
    aggregate_key = "client_id"

    client_id: uuid.UUID
    changes: list[SegmentChange]
    changed_at: datetime


@register
class ClientChurnRiskRaisedV1(EventContract):
    """A client's churn risk crossed the raise line (it was below at the last recompute)."""

    event_type = "client.churn_risk_raised.v1"
    topic = CLIENT_TOPIC
    aggregate_type = "client"
    aggregate_key = "client_id"

    client_id: uuid.UUID
    score: int = Field(description="0..100")
    reason: str
    days_since_last_order: int | None
    usual_gap_days: int | None
    sales_manager_id: uuid.UUID | None = None
    key_account: bool = Field(False, description="A key client (by share of sales or marked)")
    raised_at: datetime


@register
class ClientConcentrationAlertV1(EventContract):
    """One client's share of the seller's sales (in its currency, over the ABC window) passed
    a concentration level (by default 20, 30, 40 or 50 %) it was below at the last recompute."""

    event_type = "client.concentration_alert.v1"
    topic = CLIENT_TOPIC
    aggregate_type = "client"
    aggregate_key = "client_id"

    client_id: uuid.UUID
    currency: str
    level: float = Field(description="The level passed, e.g. 0.3")
    previous_level: float | None
    share: float = Field(description="The client's share of sales now")
    sales_manager_id: uuid.UUID | None = None
    raised_at: datetime


@register
class ClientKeySkuOutOfStockV1(EventContract):
    """A SKU that is in the client's own A class (ABC by the revenue of its purchases over the
    last `ANALYTICS_ABC_MONTHS`) has no available stock left in any warehouse. One event per
    such client and stock-out."""

    event_type = "client.key_sku_out_of_stock.v1"
    topic = CLIENT_TOPIC
    aggregate_type = "client"
    aggregate_key = "client_id"

    client_id: uuid.UUID
    sku: str
    name: str
    currency: str
    revenue_minor: int = Field(description="What the client bought of it in the ABC window")
    revenue_share: Decimal = Field(description="Its share of the client's purchases, 0..1")
    last_bought_at: datetime | None
    sales_manager_id: uuid.UUID | None = None
    out_at: datetime


class PriceMove(BaseModel):
    sku: str
    name: str
    quantity: Decimal = Field(description="The quantity of the last purchase, priced again")
    old_unit_price_minor: int = Field(description="What the client paid last time, per unit")
    new_unit_price_minor: int = Field(description="Its price now for the same quantity")
    change_percent: Decimal = Field(description="(new - old) / old x 100, 2 decimals")


@register
class ClientRegularSkuPricesChangedV1(EventContract):
    """A price change (`price.changed.v1` of pricing) moved, by at least
    `ANALYTICS_PRICE_MOVE_MIN_PERCENT`, the price of SKUs this client buys regularly (in at least
    `ANALYTICS_REGULAR_SKU_MIN_MONTHS` of the last `ANALYTICS_REGULAR_SKU_MONTHS` months) against
    what it paid last time. One event per client and price change."""

    event_type = "client.regular_sku_prices_changed.v1"
    topic = CLIENT_TOPIC
    aggregate_type = "client"
    aggregate_key = "client_id"

    client_id: uuid.UUID
    change_id: uuid.UUID = Field(description="The price.changed event's change_id")
    currency: str
    skus: list[PriceMove]
    changed_at: datetime


class SuggestedSku(BaseModel):
    sku: str
    name: str
    peer_clients: int = Field(description="Peers that buy it")


class CrossSellSuggestion(BaseModel):
    category: str
    peer_share: Decimal = Field(description="Share of the client's peers buying the category")
    reason: str
    skus: list[SuggestedSku]


@register
class ClientCrossSellOfferV1(EventContract):
    """The periodic cross-sell job found categories the client's peers buy and it does not; at
    most one offer per client every `ANALYTICS_CROSS_SELL_OFFER_EVERY_DAYS`."""

    event_type = "client.cross_sell_offer.v1"
    topic = CLIENT_TOPIC
    aggregate_type = "client"
    aggregate_key = "client_id"

    client_id: uuid.UUID
    suggestions: list[CrossSellSuggestion]
    offered_at: datetime
