"""Events the pricing service publishes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

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
    aggregate_key = "change_id"

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


# Client-keyed alerts: what pricing knows of one client that the client should hear about.
CLIENT_TOPIC = "pricing.client"


class LadderLevel(BaseModel):
    threshold_minor: int = Field(description="Turnover in the period from which the level holds")
    discount_percent: Decimal
    bonus_percent: Decimal


@register
class ClientLadderProgressV1(EventContract):
    """An order placed (or cancelled) moved a client's turnover this period either close to the
    next level of its ladder (`status: near`: what is left fell to or below
    `PRICING_LADDER_NUDGE_PERCENT` of the next level's threshold) or onto a higher level
    (`status: reached`). Sent when the line is crossed, not at every order."""

    event_type = "client.ladder_progress.v1"
    topic = CLIENT_TOPIC
    aggregate_type = "client"
    aggregate_key = "company_id"

    company_id: uuid.UUID
    status: Literal["near", "reached"]
    ladder: str = Field(description="The ladder's code")
    period: str = Field(description="month, quarter or year")
    period_start: date = Field(description="First day of the period the turnover counts in")
    currency: str
    turnover_minor: int = Field(description="The client's turnover in the period so far")
    current_level: LadderLevel | None
    next_level: LadderLevel | None
    left_minor: int | None = Field(description="Turnover still needed for the next level")
    changed_at: datetime


@register
class ClientContractPricesExpiringV1(EventContract):
    """Some of a client's own (contract) prices end within `PRICING_CONTRACT_EXPIRY_DAYS` and
    no row continues them. One event per client and end date (`valid_to`) found by the daily
    check; an end date already announced is not announced again."""

    event_type = "client.contract_prices_expiring.v1"
    topic = CLIENT_TOPIC
    aggregate_type = "client"
    aggregate_key = "company_id"

    company_id: uuid.UUID
    skus_count: int = Field(description="SKUs whose contract price ends")
    earliest_valid_to: date = Field(description="First day without the price (exclusive end)")
    last_day: date = Field(description="Last day the earliest-ending price still holds")
    skus: list[str] = Field(description="A few of the SKUs, earliest ending first")
    found_at: datetime


@register
class PriceVersionAppliedV1(EventContract):
    """A price version was applied: a price feed (approved, or past guardrails an authorised
    person overrode with a reason), or the rollback of an earlier version. Fires beside the
    `price.changed` of the same change; this one says who, why, and how to undo it."""

    event_type = "price.version_applied.v1"
    topic = PRICE_TOPIC
    aggregate_type = "price_version"
    aggregate_key = "version"

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
