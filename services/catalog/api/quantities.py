"""Converting ordered quantities to base units: one call for a whole cart or quick order."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.catalog.api.products import READERS
from services.catalog.domain.units import QuantityProblem
from services.catalog.usecases import quantities as usecase
from shared.auth import allow
from shared.db import SessionDep
from shared.fields import Quantity, Sku, code

router = APIRouter(tags=["products"])
MAX_LINES = 5_000


class QuantityLine(BaseModel):
    sku: Sku
    unit: code(16) | None = Field(None, description="Default: the base unit")
    quantity: Quantity


class ConvertRequest(BaseModel):
    lines: list[QuantityLine] = Field(min_length=1, max_length=MAX_LINES)


class ConvertedLine(BaseModel):
    row: int = Field(description="1 = the first line sent")
    sku: str
    unit: str | None
    quantity: Decimal
    ok: bool
    base_unit: str | None
    base_quantity: Decimal | None = Field(description="Set when the line may be ordered")
    problem: QuantityProblem | None
    message: str | None
    suggested_base_quantity: Decimal | None = Field(
        None, description="The nearest base quantity that would be accepted"
    )
    replacement_sku: str | None = Field(None, description="What to buy instead (discontinued)")


class ConvertResponse(BaseModel):
    ok: bool = Field(description="Every line may be ordered as sent")
    lines: list[ConvertedLine]


@router.post(
    "/products/quantities:convert",
    summary="Convert and check ordered quantities (SKU, unit, quantity) in one call",
    description=(
        "For each line: the quantity in the product's base unit, or why it cannot be ordered "
        "(unknown SKU or unit, more decimals than the base unit takes, below the minimum "
        "order quantity, not a multiple of the order multiple, discontinued with its "
        "replacement). Always 200 with a verdict per line; one query for the whole batch."
    ),
)
async def convert_quantities(
    body: ConvertRequest, session: SessionDep, principal: allow(*READERS)
) -> ConvertResponse:
    verdicts = await usecase.convert(
        session, [usecase.Ordered(line.sku, line.unit, line.quantity) for line in body.lines]
    )
    lines = [ConvertedLine.model_validate(v, from_attributes=True) for v in verdicts]
    return ConvertResponse(ok=all(line.ok for line in lines), lines=lines)
