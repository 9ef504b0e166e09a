"""Request and response bodies of the analytics API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from shared.apiconventions import examples
from shared.fields import multiline

Touchpoint = Literal["portal", "manager", "delivery", "product"]


class BuyerSegments(BaseModel):
    """The segments a client's own people see: where they stand on the loyalty ladder and how
    regularly they buy. The seller's other labels stay internal."""

    regularity: str | None = None
    ladder: str | None = None


class Segments(BuyerSegments):
    abc_revenue: str | None = None
    abc_margin: str | None = None
    xyz: str | None = None
    matrix_cell: str | None = None
    matrix_action: str | None = None
    rfm_segment: str | None = None
    rfm_scores: list[int | None] | None = Field(None, description="[R, F, M], 1..5")
    check_tier: str | None = None
    payment_behaviour: str | None = None
    concentration: str | None = None


class ChurnRisk(BaseModel):
    score: int | None
    raised: bool
    reason: str | None
    days_since_last_order: int | None
    usual_gap_days: float | None


class BuyerMetrics(BaseModel):
    """The figures a client's own people see: what they bought and how they were served.
    Never the seller's cost, margin, lifetime value or internal scores."""

    orders: int | None = None
    revenue_minor: int | None = None
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    average_check_minor: float | None = None
    orders_per_month: float | None = None
    lifetime_months: float | None = None
    days_since_last_order: int | float | None = None
    usual_gap_days: float | None = None
    overdue_minor: int | None = None
    otif_rate: float | None = Field(None, description="Deliveries on time and in full")
    nps_average: float | None = None
    csat_average: float | None = None
    satisfaction: list[dict[str, Any]] | None = Field(None, description="Per touchpoint")


class BuyerProfile(BaseModel):
    """The profile as the client's own people (buyers, company admins) see it
    (`shared.audience`): no churn risk, no internal segments, no cost or margin."""

    client_id: uuid.UUID
    currency: str
    legal_name: str | None
    industry: str | None
    client_type: str | None
    size: str | None
    sales_manager_id: uuid.UUID | None
    segments: BuyerSegments
    metrics: BuyerMetrics
    computed_at: datetime | None


@examples(
    {
        "client_id": "7b3f6a52-9a4e-4f1e-8a31-0c2d9b6e5f10",
        "currency": "EUR",
        "legal_name": "Alpha LLC",
        "industry": "construction",
        "client_type": "installer",
        "size": "medium",
        "sales_manager_id": "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
        "segments": {
            "regularity": "regular",
            "ladder": "adherent",
            "abc_revenue": "A",
            "abc_margin": "B",
            "xyz": "X",
            "matrix_cell": "AX",
            "matrix_action": "Keep stock and supply guaranteed; automatic replenishment, a dedicated manager",
            "rfm_segment": "champions",
            "rfm_scores": [5, 5, 4],
            "check_tier": "standard",
            "payment_behaviour": "pays_on_time",
            "concentration": "key",
        },
        "churn": {
            "score": 6,
            "raised": False,
            "reason": "no order for 12 days, 0.5x its usual 24-day interval",
            "days_since_last_order": 12,
            "usual_gap_days": 24.0,
        },
        "metrics": {
            "orders": 14,
            "revenue_minor": 904400,
            "margin_minor": 180880,
            "margin_share": 0.2,
            "average_check_minor": 64600.0,
            "first_order_at": "2026-01-12T08:20:00+00:00",
            "last_order_at": "2026-11-24T09:05:00+00:00",
            "days_since_last_order": 12,
            "usual_gap_days": 24.0,
            "median_gap_days": 24.0,
            "gap_cv": 0.21,
            "orders_per_month": 1.3,
            "lifetime_months": 10.4,
            "frequent_window_orders": 4,
            "overdue_minor": 0,
            "otif_rate": 0.93,
            "nps_average": 8.0,
            "csat_average": 4.0,
            "satisfaction": [  # 4 answers on deliveries: nps 9, 9, 8, 6; csat 5, 4, 4, 3
                {
                    "touchpoint": "delivery",
                    "answers": 4,
                    "nps_answers": 4,
                    "nps": 25.0,
                    "csat_answers": 4,
                    "csat": 75.0,
                }
            ],
            "sales_share": 0.12,
            "concentration_level": None,
            "share_of_wallet": 0.45,
            "purchase_potential_minor": 2000000,
            "ltv_minor": 412300,
            "ltv_revenue_minor": 2061500,
            "margin_by_year": [{"year": 2026, "margin_minor": 180880, "revenue_minor": 904400}],
            "abc_revenue_minor": 904400,
            "abc_margin_minor": 180880,
            "rfm_orders": 14,
            "rfm_revenue_minor": 904400,
            "r_score": 5,
            "f_score": 5,
            "m_score": 4,
            "xyz_cv": 0.08,
            "xyz_months": 11,
            "volume_drop": None,
            "matrix_cell": "AX",
            "matrix_action": "Keep stock and supply guaranteed; automatic replenishment, a dedicated manager",
            "churn_reason": "no order for 12 days, 0.5x its usual 24-day interval",
        },
        "computed_at": "2026-12-06T03:00:00Z",
    }
)
class ClientProfile(BuyerProfile):
    """Everything analytics knows of one client, as the seller's staff see it."""

    segments: Segments  # type: ignore[assignment]
    churn: ChurnRisk | None
    metrics: dict[str, Any] = Field(  # type: ignore[assignment]
        description="The figures behind the segments, margins and lifetime value included"
    )


@examples(
    {
        "client_id": "7b3f6a52-9a4e-4f1e-8a31-0c2d9b6e5f10",
        "legal_name": "Alpha LLC",
        "currency": "EUR",
        "abc_revenue": "A",
        "abc_margin": "B",
        "xyz": "X",
        "rfm_segment": "champions",
        "regularity": "regular",
        "check_tier": "standard",
        "ladder": "adherent",
        "churn_score": 6,
        "churn_raised": False,
        "payment_behaviour": "pays_on_time",
        "concentration": "key",
        "revenue_minor": 904400,
        "ltv_minor": 412300,
    }
)
class ClientSegmentRow(BaseModel):
    client_id: uuid.UUID
    legal_name: str | None
    currency: str
    abc_revenue: str | None
    abc_margin: str | None
    xyz: str | None
    rfm_segment: str | None
    regularity: str | None
    check_tier: str | None
    ladder: str | None
    churn_score: int | None
    churn_raised: bool
    payment_behaviour: str | None
    concentration: str | None
    revenue_minor: int
    ltv_minor: int | None


class SkuSegmentRow(BaseModel):
    sku: str
    currency: str
    abc: str | None
    xyz: str | None
    revenue_minor: int
    quantity_cv: float | None


@examples({"dimension": "abc_revenue", "counts": {"A": 12, "B": 31, "C": 77}})
class SegmentCounts(BaseModel):
    dimension: str
    counts: dict[str, int]


class FeedbackCreate(BaseModel):
    order_id: uuid.UUID | None = Field(None, description="The order the answer is about")
    touchpoint: Touchpoint
    nps: int | None = Field(None, ge=0, le=10, description="How likely to recommend us, 0..10")
    csat: int | None = Field(None, ge=1, le=5, description="How satisfied, 1..5")
    comment: multiline(2000) | None = None

    @model_validator(mode="after")
    def _scores_something(self) -> FeedbackCreate:
        if self.nps is None and self.csat is None:
            raise ValueError("give nps, csat or both")
        return self


class FeedbackRead(BaseModel):
    id: uuid.UUID
    client_id: uuid.UUID
    order_id: uuid.UUID | None
    touchpoint: str
    nps: int | None
    csat: int | None
    comment: str | None
    created_at: datetime


class CrossSellSku(BaseModel):
    sku: str
    name: str | None
    peer_clients: int


class AssortmentGap(BaseModel):
    category: str
    peer_share: float = Field(description="Share of the peers that buy this category")
    reason: str
    skus: list[CrossSellSku] = Field(description="What the peers buy most in it, to offer")


class CrossSell(BaseModel):
    client_id: uuid.UUID
    peers: int = Field(description="Clients of the same industry, type and (if known) size")
    peer_definition: str
    gaps: list[AssortmentGap]


class ReorderLine(BaseModel):
    sku: str
    name: str | None
    quantity: str = Field(description="Suggested quantity for the period (3 decimals)")
    xyz: str
    months_bought: int
    average_monthly_quantity: str


class ReorderList(BaseModel):
    client_id: uuid.UUID
    period_days: int
    lines: list[ReorderLine]


class RecomputeResult(BaseModel):
    clients: int
    segment_changed: int
    churn_risk_raised: int
    skus: int
    seconds: dict[str, float]


class BaseSummary(BaseModel):
    currency: str
    computed_at: datetime
    summary: dict[str, Any]
