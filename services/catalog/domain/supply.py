"""Availability per line: what of a line ships from stock (per warehouse), what would be
produced, and the earliest date of each.

A SKU is stocked, made to order, or both (the catalog feed's `supply`). Stock is drawn as a
reservation would draw it (`allocation`: the line's own warehouse, else the preferred one,
then the most available), lines of one SKU in turn. What stock cannot serve is produced when
the SKU may be made to order, in a batch of at least `min_batch` and a multiple of
`batch_multiple`, ready `lead_time_days` after today; a stock-only SKU is then short.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from services.catalog.domain.allocation import ZERO, draw, draw_order, take_from, what_is_left
from services.catalog.domain.units import round_up

MAX_LEAD_TIME_DAYS = 365
MAX_WEIGHT_KG = Decimal("100000")  # of one base unit
MAX_VOLUME_M3 = Decimal("1000")


class Supply(StrEnum):
    STOCK = "stock"
    MADE_TO_ORDER = "made_to_order"
    BOTH = "both"  # from stock first, the rest produced


class BatchRule(StrEnum):
    """A production rule that raised the quantity needed."""

    MIN_BATCH = "min_batch"
    BATCH_MULTIPLE = "batch_multiple"


class LineProblem(StrEnum):
    UNKNOWN_SKU = "unknown_sku"
    UNKNOWN_WAREHOUSE = "unknown_warehouse"
    DISCONTINUED = "discontinued"
    TOO_PRECISE = "too_precise"
    SHORT = "short"  # stock only, and the stock is not enough


@dataclass(frozen=True)
class SupplyTerms:
    """How a SKU is supplied, all quantities in its base unit."""

    unit: str
    precision: int  # decimals a base quantity may have
    supply: Supply = Supply.STOCK
    active: bool = True
    lead_time_days: int | None = None  # set whenever the SKU may be made to order
    min_batch: Decimal | None = None  # none: any quantity
    batch_multiple: Decimal | None = None  # none: any quantity the unit's decimals express

    @property
    def step(self) -> Decimal:
        return Decimal(1).scaleb(-self.precision)


@dataclass(frozen=True)
class Asked:
    sku: str
    quantity: Decimal  # in the base unit
    warehouse: str | None = None  # ship only from this one


@dataclass(frozen=True)
class Production:
    """What a line would have produced: `needed` raised to a batch the rules allow."""

    needed: Decimal
    quantity: Decimal
    min_batch: Decimal | None
    batch_multiple: Decimal | None
    rounded_by: list[BatchRule]
    lead_time_days: int
    ready_on: date


@dataclass(frozen=True)
class LineAvailability:
    row: int  # 1-based, as the lines were given
    sku: str
    quantity: Decimal
    unit: str | None = None
    supply: Supply | None = None
    from_stock: list[tuple[str, Decimal]] = field(default_factory=list)  # (warehouse, qty)
    stock_ready_on: date | None = None
    production: Production | None = None
    ready_on: date | None = None  # the whole line; None when it cannot be served
    problem: LineProblem | None = None
    message: str | None = None


def production(terms: SupplyTerms, needed: Decimal, today: date) -> Production:
    """`needed` raised to at least the minimum batch, then to a multiple of the batch; its
    quantities with the base unit's decimals."""
    at_least = max(needed, terms.min_batch or ZERO)
    quantity = round_up(at_least, terms.batch_multiple or terms.step).quantize(terms.step)
    rounded_by = []
    if at_least > needed:
        rounded_by.append(BatchRule.MIN_BATCH)
    if quantity > at_least:
        rounded_by.append(BatchRule.BATCH_MULTIPLE)
    lead_time = terms.lead_time_days or 0
    return Production(
        needed=needed.quantize(terms.step),
        quantity=quantity,
        min_batch=terms.min_batch,
        batch_multiple=terms.batch_multiple,
        rounded_by=rounded_by,
        lead_time_days=lead_time,
        ready_on=today + timedelta(days=lead_time),
    )


def _refused(
    row: int, asked: Asked, problem: LineProblem, message: str, terms: SupplyTerms | None = None
) -> LineAvailability:
    return LineAvailability(
        row,
        asked.sku,
        asked.quantity,
        unit=terms.unit if terms else None,
        supply=terms.supply if terms else None,
        problem=problem,
        message=message,
    )


def availability(
    lines: Sequence[Asked],
    terms: Mapping[str, SupplyTerms],
    available: Mapping[tuple[str, str], Decimal],
    warehouses: set[str],
    today: date,
    preferred: str | None = None,
) -> list[LineAvailability]:
    """Each line's answer, in the order given. `terms` by SKU, `available` stock per (sku,
    warehouse), `warehouses` the known ones of those the lines name."""
    left = what_is_left(available)
    order = draw_order(available, preferred)
    answers = []
    for row, asked in enumerate(lines, start=1):
        sku = terms.get(asked.sku)
        if sku is None:
            answers.append(_refused(row, asked, LineProblem.UNKNOWN_SKU, f"no product {asked.sku}"))
        elif asked.warehouse is not None and asked.warehouse not in warehouses:
            problem = LineProblem.UNKNOWN_WAREHOUSE
            answers.append(_refused(row, asked, problem, f"no warehouse {asked.warehouse}", sku))
        elif not sku.active:
            problem = LineProblem.DISCONTINUED
            answers.append(_refused(row, asked, problem, f"{asked.sku} is discontinued", sku))
        elif asked.quantity != asked.quantity.quantize(sku.step):
            message = f"{sku.unit} takes {sku.precision} decimals at most"
            answers.append(_refused(row, asked, LineProblem.TOO_PRECISE, message, sku))
        else:
            answers.append(_line(row, asked, sku, order, left, today))
    return answers


def _line(
    row: int,
    asked: Asked,
    terms: SupplyTerms,
    order: Mapping[str, Sequence[str]],
    left: dict[tuple[str, str], Decimal],
    today: date,
) -> LineAvailability:
    plan, need = [], asked.quantity
    if terms.supply != Supply.MADE_TO_ORDER:
        plan, need = draw(asked.sku, asked.warehouse, asked.quantity, order, left)
    if need > 0 and terms.supply == Supply.STOCK:
        where = f" in {asked.warehouse}" if asked.warehouse is not None else ""
        has = asked.quantity - need
        message = f"only {has:.{terms.precision}f} of {asked.sku} available{where}"
        return _refused(row, asked, LineProblem.SHORT, message, terms)
    take_from(left, plan)
    produced = production(terms, need, today) if need > 0 else None
    stock_ready_on = today if plan else None
    return LineAvailability(
        row,
        asked.sku,
        asked.quantity,
        unit=terms.unit,
        supply=terms.supply,
        from_stock=[(w, quantity.quantize(terms.step)) for (_, w), quantity in plan],
        stock_ready_on=stock_ready_on,
        production=produced,
        ready_on=produced.ready_on if produced else stock_ready_on,
        problem=None,
        message=None,
    )
