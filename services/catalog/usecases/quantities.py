"""Ordered quantities checked and converted to base units: a whole cart or quick order in one
call and one query."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.domain.units import (
    ProductUnits,
    QuantityProblem,
    QuantityRejected,
    to_base_quantity,
)
from services.catalog.store import products as store
from services.catalog.store.models import Product


@dataclass(frozen=True)
class Ordered:
    sku: str
    unit: str | None  # None: the base unit
    quantity: Decimal


@dataclass
class Verdict:
    """One line's answer: its base quantity when it may be ordered, else why not (with the
    nearest base quantity that would do, or the replacement of a discontinued product)."""

    row: int
    sku: str
    unit: str | None
    quantity: Decimal
    ok: bool = False
    base_unit: str | None = None
    base_quantity: Decimal | None = None
    problem: QuantityProblem | None = None
    message: str | None = None
    suggested_base_quantity: Decimal | None = None
    replacement_sku: str | None = None


def _units(product: Product) -> ProductUnits:
    return ProductUnits(
        base_unit=product.unit,
        factors={unit: Decimal(factor) for unit, factor in product.units.items()},
        min_order_qty=product.min_order_qty,
        order_multiple=product.order_multiple,
        precision=product.unit_precision,
    )


def verdict(row: int, line: Ordered, product: Product | None) -> Verdict:
    answer = Verdict(row, line.sku, line.unit, line.quantity)
    if product is None:
        answer.problem, answer.message = QuantityProblem.UNKNOWN_SKU, f"no product {line.sku}"
        return answer
    answer.base_unit = product.unit
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


async def convert(session: AsyncSession, lines: list[Ordered]) -> list[Verdict]:
    """A verdict per line, in the order sent (row 1 first)."""
    products = await store.by_skus(session, [line.sku for line in lines])
    return [verdict(row, line, products.get(line.sku)) for row, line in enumerate(lines, start=1)]
