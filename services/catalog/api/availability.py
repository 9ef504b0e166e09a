"""Availability per line: what ships from stock, what would be produced, and when."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.catalog.api.products import READERS
from services.catalog.domain.supply import Asked, BatchRule, LineAvailability, LineProblem, Supply
from services.catalog.usecases import availability as usecase
from shared.auth import allow
from shared.db import SessionDep
from shared.fields import Code, Quantity, Sku

router = APIRouter(tags=["availability"])
MAX_LINES = 5_000


class LineAsked(BaseModel):
    sku: Sku
    quantity: Quantity = Field(description="In the SKU's base unit")
    warehouse: Code | None = Field(
        None, description="Ship only from this warehouse. Default: from any, as a reservation draws"
    )


class AvailabilityRequest(BaseModel):
    preferred_warehouse: Code | None = Field(
        None, description="The buyer's warehouse: lines draw from it first"
    )
    lines: list[LineAsked] = Field(min_length=1, max_length=MAX_LINES)


class FromStock(BaseModel):
    warehouse: str
    quantity: Decimal
    ready_on: date = Field(description="Today: stock ships at once")


class ProductionRead(BaseModel):
    needed: Decimal = Field(description="What stock cannot serve")
    quantity: Decimal = Field(description="What would be produced: `needed` in whole batches")
    min_batch: Decimal | None
    batch_multiple: Decimal | None
    rounded_by: list[BatchRule] = Field(
        description="The rules that raised `needed` to `quantity` (none: it is a batch already)"
    )
    lead_time_days: int
    ready_on: date = Field(description="Today plus the lead time")


class LineAvailabilityRead(BaseModel):
    row: int = Field(description="1 = the first line sent")
    sku: str
    quantity: Decimal
    unit: str | None = Field(description="The base unit (null: unknown SKU)")
    supply: Supply | None
    ok: bool = Field(description="The line can be served in full")
    from_stock: list[FromStock] = Field(description="Per warehouse, in the order drawn")
    production: ProductionRead | None = Field(description="What stock cannot serve, produced")
    ready_on: date | None = Field(description="The whole line ready; null when it cannot be")
    problem: LineProblem | None
    message: str | None


class AvailabilityRead(BaseModel):
    today: date = Field(description="The day the dates count from")
    ok: bool = Field(description="Every line can be served")
    lines: list[LineAvailabilityRead]


def _read(line: LineAvailability) -> LineAvailabilityRead:
    production = line.production
    return LineAvailabilityRead(
        row=line.row,
        sku=line.sku,
        quantity=line.quantity,
        unit=line.unit,
        supply=line.supply,
        ok=line.problem is None,
        from_stock=[
            FromStock(warehouse=w, quantity=q, ready_on=line.stock_ready_on)
            for w, q in line.from_stock
        ],
        production=ProductionRead.model_validate(production, from_attributes=True)
        if production
        else None,
        ready_on=line.ready_on,
        problem=line.problem,
        message=line.message,
    )


@router.post(
    "/availability",
    summary="Availability per line: from stock per warehouse, produced, and the dates",
    description=(
        "For each line (SKU and quantity in its base unit): what ships from stock per warehouse "
        "(drawn as a reservation would: the line's warehouse, else the preferred one, then the "
        "one with the most available; lines of one SKU in turn), what would be produced where "
        "the SKU may be made to order (raised to its minimum batch and batch multiple, "
        "`rounded_by` saying which), and the earliest date of each: today from stock, today "
        "plus the lead time produced. A line that cannot be served says why (`problem`: "
        "unknown_sku, unknown_warehouse, discontinued, too_precise, short: stock only and not "
        "enough) and the others are answered. Nothing is held: reserve at checkout."
    ),
    responses={
        422: {
            "description": "A malformed request, naming the line (`row`) and the field, or a "
            "`preferred_warehouse` that is not known"
        }
    },
)
async def lines_availability(
    body: AvailabilityRequest, session: SessionDep, principal: allow(*READERS)
) -> AvailabilityRead:
    found = await usecase.lines_availability(
        session,
        [Asked(line.sku, line.quantity, line.warehouse) for line in body.lines],
        body.preferred_warehouse,
    )
    lines = [_read(line) for line in found.lines]
    return AvailabilityRead(today=found.today, ok=all(line.ok for line in lines), lines=lines)
