"""The shapes of the sales analytics answers (`/sales/...`), so generated clients get types
rather than maps. Ratios are 0-1 with four decimals; null where the base is empty."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from shared.fields import CurrencyCode, MinorUnits, PastTimestamp, Sku, line, multiline

Ratio = float | None


class PipelineStage(BaseModel):
    stage: str
    position: int
    reached: int = Field(description="Clients that reached the stage (or passed it)")
    next_stage: str | None = Field(None, description="None on the last stage")
    converted: int | None = Field(None, description="Of those, clients that reached the next")
    conversion: Ratio = None
    median_days_to_next: float | None = None

    @model_serializer(mode="wrap")
    def _last_has_no_next(self, handler: SerializerFunctionWrapHandler):
        """The last stage has no next one: its fields about the next are left out. (No return
        type: with one, the documented schema would be that type rather than this model.)"""
        data = handler(self)
        return {k: v for k, v in data.items() if k in self.model_fields_set}


class PipelineGroup(BaseModel):
    group: str = Field(description="The source, manager, segment, or `all`")
    stages: list[PipelineStage]


class FunnelStep(BaseModel):
    step: str
    value: int
    of_first: Ratio = Field(description="This step against the first")


class Funnel(BaseModel):
    unit: Literal["count", "minor", "skus"] = Field(
        description="What `value` counts: things, money in minor units, or SKUs"
    )
    steps: list[FunnelStep]
    conversion: Ratio = Field(description="The last step against the first")


class OfferFunnel(Funnel):
    kind: Literal["upsell", "cross_sell"]


class ClientConversion(BaseModel):
    leads: int
    first_orders: int
    conversion: Ratio
    median_days_to_first_order: float | None


class Funnels(BaseModel):
    client: ClientConversion = Field(description="Leads that placed a first order")
    financial: Funnel = Field(description="Quoted, accepted, ordered, delivered, paid (money)")
    unit: Funnel = Field(description="SKUs quoted, then ordered")
    upsell: list[OfferFunnel] = Field(description="Offers shown, then accepted, per kind")
    notes: str


class DealStep(BaseModel):
    from_deal: int = Field(description="Clients with at least this many deals...")
    clients: int
    next: int = Field(description="...and those with one more")
    conversion: Ratio


class DaysBetweenDeals(BaseModel):
    mean: float | None
    median: float | None


class MonthlyCheck(BaseModel):
    month: str = Field(description="YYYY-MM")
    deals: int
    average_check_minor: float | None


class RepeatDeals(BaseModel):
    window_days: int = Field(description="An order this close to its deal's start is an add-on")
    orders: int
    deals: int
    add_ons: int
    repeat_orders_counted_naively: int = Field(description="Every order after a first one")
    repeat_deals: int = Field(description="Deals after a client's first, add-ons taken out")
    deal_to_deal: list[DealStep]
    days_between_deals: DaysBetweenDeals
    average_check_minor: float | None
    average_check_trend: list[MonthlyCheck]
    check_depth: float | None = Field(description="Distinct SKUs per deal")
    check_width: float | None = Field(
        description="Unit prices against their category's median (1.0: the usual level)"
    )


class CoPurchase(BaseModel):
    segment: str
    a: str
    b: str
    together: int = Field(description="Deals holding both")
    support: float
    confidence_a_to_b: float
    confidence_b_to_a: float
    lift: float


class TeamResult(BaseModel):
    manager_id: str
    name: str | None
    department: str | None
    clients: int
    new_clients: int
    orders: int
    orders_on_behalf: int
    quotes_offered: int
    quotes_accepted: int
    quote_conversion: Ratio
    revenue_minor: int
    average_check_minor: float | None
    repeat_deals: int
    segment_shares: dict[str, Ratio] = Field(description="ABC class (or `none`) -> share")
    churned_clients: int
    plan_minor: int | None
    fact_minor: int
    completion: Ratio = Field(description="Fact against plan; null without a plan")


class LossReasons(BaseModel):
    group: str = Field(description="The segment or manager")
    reason_code: str
    count: int
    cancellations: int
    returns: int
    complaints: int
    surveys: int


class WinBackTask(BaseModel):
    client_id: str
    legal_name: str | None
    manager_id: str | None
    share: float | None = Field(description="The client's share of the currency's sales")
    criteria: list[str] = Field(description="Why a manager marked it key, if one did")
    task: str


class KeyAccount(BaseModel):
    client_id: str
    legal_name: str | None
    currency: str
    manager_id: str | None
    department: str | None
    revenue_minor: int
    share: float | None = Field(description="Of its level's sales (company: the currency's)")
    key_by_share: bool = Field(description="Over the threshold; else a manager marked it")
    criteria: list[str]


class ManagerKeyAccounts(BaseModel):
    manager_id: str
    key_accounts: int
    limit: int
    over_limit: bool


class RetentionMonth(BaseModel):
    month: str = Field(description="YYYY-MM")
    reorder_discounts_minor: int
    loyalty_bonuses_minor: int
    retro_bonuses_minor: int
    retention_minor: int = Field(description="Discounts on re-orders plus bonuses")
    acquisition_minor: int
    retention_per_acquisition: Ratio


class RetentionPeriod(BaseModel):
    starts: str = Field(description="YYYY-MM: the period's first month")
    start: int = Field(description="Clients buying in the period before")
    active: int
    new: int
    crr: float | None = Field(description="Customer retention rate, percent")


class Retention(BaseModel):
    months: list[RetentionMonth]
    crr: list[RetentionPeriod]


KEY_CRITERIA = Literal["potential", "reputation", "innovator", "demanding", "strategic"]


class KeyAccountsRead(BaseModel):
    level: Literal["company", "department", "manager"]
    threshold: float
    clients: list[KeyAccount]
    managers: list[ManagerKeyAccounts] = Field(description="Key accounts per manager and the limit")


class KeyAccountMarkWrite(BaseModel):
    criteria: list[KEY_CRITERIA] = Field(
        max_length=5, description="Why the client is key besides its share; empty clears"
    )
    note: multiline(2000) | None = None


class TeamMemberWrite(BaseModel):
    name: line(200, min_length=1)
    department: line(100) | None = None


class ManagerPlanWrite(BaseModel):
    plan_minor: MinorUnits
    currency: CurrencyCode


class SpendWrite(BaseModel):
    amount_minor: MinorUnits


class OfferShown(BaseModel):
    client_id: uuid.UUID
    kind: Literal["upsell", "cross_sell"]
    sku: Sku = Field(description="The SKU offered")
    instead_of_sku: Sku | None = Field(None, description="Upsell: the cheaper one")
    shown_at: PastTimestamp | None = None


class OffersShown(BaseModel):
    offers: list[OfferShown] = Field(min_length=1, max_length=1000)
