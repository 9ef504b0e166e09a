"""Events the analytics service publishes."""

from __future__ import annotations

import uuid
from datetime import datetime

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

    client_id: uuid.UUID
    changes: list[SegmentChange]
    changed_at: datetime

    def aggregate_id(self) -> str:
        return str(self.client_id)


@register
class ClientChurnRiskRaisedV1(EventContract):
    """A client's churn risk crossed the raise line (it was below at the last recompute)."""

    event_type = "client.churn_risk_raised.v1"
    topic = CLIENT_TOPIC
    aggregate_type = "client"

    client_id: uuid.UUID
    score: int = Field(description="0..100")
    reason: str
    days_since_last_order: int | None
    usual_gap_days: int | None
    sales_manager_id: uuid.UUID | None = None
    key_account: bool = Field(False, description="A key client (by share of sales or marked)")
    raised_at: datetime

    def aggregate_id(self) -> str:
        return str(self.client_id)


@register
class ClientConcentrationAlertV1(EventContract):
    """One client's share of the seller's sales (in its currency, over the ABC window) passed
    a concentration level (by default 20, 30, 40 or 50 %) it was below at the last recompute."""

    event_type = "client.concentration_alert.v1"
    topic = CLIENT_TOPIC
    aggregate_type = "client"

    client_id: uuid.UUID
    currency: str
    level: float = Field(description="The level passed, e.g. 0.3")
    previous_level: float | None
    share: float = Field(description="The client's share of sales now")
    sales_manager_id: uuid.UUID | None = None
    raised_at: datetime

    def aggregate_id(self) -> str:
        return str(self.client_id)
