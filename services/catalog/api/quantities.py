"""Converting ordered quantities to base units: one call for a whole cart or quick order."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.catalog.api.products import READERS
from services.catalog.domain.units import (
    ProductUnits,
    QuantityProblem,
    QuantityRejected,
    to_base_quantity,
)
from services.catalog.store import products as store
from services.catalog.store.models import Product
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


def _units(product: Product) -> ProductUnits:
    return ProductUnits(
        base_unit=product.unit,
        factors={unit: Decimal(factor) for unit, factor in product.units.items()},
        min_order_qty=product.min_order_qty,
        order_multiple=product.order_multiple,
        precision=product.unit_precision,
    )


def convert_line(row: int, line: QuantityLine, product: Product | None) -> ConvertedLine:
    answer = ConvertedLine(
        row=row,
        sku=line.sku,
        unit=line.unit,
        quantity=line.quantity,
        ok=False,
        base_unit=product.unit if product else None,
        base_quantity=None,
        problem=None,
        message=None,
    )
    if product is None:
        answer.problem, answer.message = QuantityProblem.UNKNOWN_SKU, f"no product {line.sku}"
        return answer
    if product.status != "active":
        answer.problem = QuantityProblem.DISCONTINUED
        answer.replacement_sku = product.replacement_sku
        answer.message = f"{line.sku} is discontinued" + (
            f"; buy {product.replacement_sku} instead" if product.replacement_sku else ""
        )
        return answer
    try:
        answer.base_quantity = to_base_quantity(
            _units(product), line.unit or product.unit, line.quantity
        )
    except QuantityRejected as rejected:
        answer.problem, answer.message = rejected.problem, rejected.message
        answer.suggested_base_quantity = rejected.suggested
        return answer
    answer.ok = True
    return answer


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
    products = await store.by_skus(session, [line.sku for line in body.lines])
    lines = [
        convert_line(row, line, products.get(line.sku))
        for row, line in enumerate(body.lines, start=1)
    ]
    return ConvertResponse(ok=all(line.ok for line in lines), lines=lines)
