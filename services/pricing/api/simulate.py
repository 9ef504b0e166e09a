"""`POST /prices/simulate`: what a proposed price change would have earned on the clients'
actual volumes of the last months, by segment. Nothing is written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, model_validator

from services.pricing.api.policy_schemas import MinQty
from services.pricing.store.projections import CLIENTS
from services.pricing.usecases.simulations import ProposedRow, simulate
from shared.auth import Role, allow
from shared.clock import today
from shared.db import SessionDep
from shared.fields import Code, CurrencyCode, PositiveMinorUnits, Reference, Sku, code

router = APIRouter(tags=["price governance"])

READERS = (Role.ADMIN, Role.PRICING_MANAGER, Role.SALES_MANAGER)
MAX_ROWS = 10_000


class ProposedPrice(BaseModel):
    list: Code | None = Field(None, description="Price list code (or client)")
    client: Reference | None = Field(None, description="Client's ERP id (or list)")
    sku: Sku
    min_qty: MinQty = Decimal(1)
    price_minor: PositiveMinorUnits | None = Field(None, description="Null with action delete")
    currency: CurrencyCode
    action: Literal["upsert", "delete"] = "upsert"

    @model_validator(mode="after")
    def _shape(self) -> ProposedPrice:
        if (self.list is None) == (self.client is None):
            raise ValueError("give either list or client")
        if (self.action == "upsert") != (self.price_minor is not None):
            raise ValueError("price_minor is required for upsert and absent for delete")
        return self


class SimulationRequest(BaseModel):
    rows: list[ProposedPrice] = Field(min_length=1, max_length=MAX_ROWS)
    months: int = Field(
        3, ge=1, le=36, description="Volumes of this many months, this one included"
    )
    segment_dimension: code(32) = Field(
        "abc_revenue", description="Which analytics segment to total by"
    )


class Effect(BaseModel):
    currency: str
    segment: str | None = None
    clients: int
    lines: int = Field(description="(client, SKU) pairs with volume")
    revenue_before_minor: int
    revenue_after_minor: int
    revenue_change_minor: int
    margin_before_minor: int
    margin_after_minor: int
    margin_change_minor: int
    lines_without_cost: int = Field(description="Lines whose SKU has no cost: out of the margin")


class ClientEffect(BaseModel):
    client: str
    segment: str
    currency: str
    revenue_before_minor: int
    revenue_after_minor: int
    revenue_change_minor: int
    margin_before_minor: int | None
    margin_after_minor: int | None
    margin_change_minor: int | None


class SimulationRead(BaseModel):
    since: date
    segment_dimension: str
    totals: list[Effect]
    by_segment: list[Effect]
    clients: list[ClientEffect] = Field(description="The 20 clients whose revenue moves most")


def _first_of_month(months_back: int, today: date) -> date:
    month = today.year * 12 + today.month - 1 - months_back
    return date(month // 12, month % 12 + 1, 1)


@router.post(
    "/prices/simulate",
    response_model=SimulationRead,
    summary="Estimate a proposed price change's revenue and margin effect on actual volumes",
    description=(
        "The rows are list entries or client prices as a price feed would give them. Every "
        "client that bought their SKUs in the last `months` months (from placed orders) is "
        "priced as today and with the change, at its typical order quantity of the SKU, "
        "through the same rules as resolve; revenue = quantity x unit price, margin = revenue "
        "less quantity x the SKU's cost. Totals per currency and per segment. A sales "
        "manager's simulation counts only the clients assigned to it (another's ERP id in "
        "`rows` is a 422 as an unknown one)."
    ),
)
async def simulate_change(
    body: SimulationRequest, request: Request, session: SessionDep, principal: allow(*READERS)
) -> dict[str, Any]:
    day = today()
    since = _first_of_month(body.months - 1, day)
    rows = [
        ProposedRow(r.list, r.client, r.sku, r.min_qty, r.price_minor, r.currency)
        for r in body.rows
    ]
    found = await simulate(
        request.app.state.price_engine,
        session,
        rows,
        since=since,
        day=day,
        dimension=body.segment_dimension,
        reach=CLIENTS.sql(principal, "c.company_id"),
    )
    return {"since": since, "segment_dimension": body.segment_dimension, **found}
