"""Units of measure: a quantity in a pack, a pallet or a metre as the base quantity a product is
stocked, priced and reserved in, and whether it may be ordered at all.

Plain Python: the convert endpoint loads the products of a batch in one query and runs these
rules on each line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum


@dataclass(frozen=True)
class ProductUnits:
    """What ordering a product needs to know, all in its base unit."""

    base_unit: str
    factors: Mapping[str, Decimal] = field(default_factory=dict)  # unit -> base units in one
    min_order_qty: Decimal = Decimal(1)
    order_multiple: Decimal = Decimal(1)
    precision: int = 3  # decimals a base quantity may have (0: whole pieces only)

    def factor(self, unit: str) -> Decimal | None:
        return Decimal(1) if unit == self.base_unit else self.factors.get(unit)


class QuantityProblem(StrEnum):
    UNKNOWN_SKU = "unknown_sku"
    UNKNOWN_UNIT = "unknown_unit"
    TOO_PRECISE = "too_precise"
    BELOW_MINIMUM = "below_minimum"
    NOT_A_MULTIPLE = "not_a_multiple"
    DISCONTINUED = "discontinued"


class QuantityRejected(ValueError):
    def __init__(
        self, problem: QuantityProblem, message: str, suggested: Decimal | None = None
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message
        self.suggested = suggested  # the nearest base quantity that would be accepted


def _plain(value: Decimal) -> str:
    """12.000 -> 12, 0.500 -> 0.5: quantities as people write them."""
    return format(value.normalize(), "f")


def _at_precision(units: ProductUnits, value: Decimal) -> Decimal:
    """`value` written with the base unit's decimals (24.000 pcs -> 24, 101 m -> 101.0)."""
    exact = value.quantize(Decimal(1).scaleb(-units.precision))
    return exact if exact == value else value.normalize()


def round_up(at_least: Decimal, multiple: Decimal) -> Decimal:
    """The smallest multiple of `multiple` that is not below `at_least`."""
    return (at_least / multiple).to_integral_value(rounding=ROUND_CEILING) * multiple


def valid_base_quantity(units: ProductUnits, wanted: Decimal) -> Decimal:
    """The smallest quantity at least `wanted` (and the minimum) that is a multiple."""
    return _at_precision(units, round_up(max(wanted, units.min_order_qty), units.order_multiple))


def to_base_quantity(units: ProductUnits, unit: str, quantity: Decimal) -> Decimal:
    """`quantity` of `unit` in the base unit, or QuantityRejected saying why it cannot be
    ordered: an unknown unit, more decimals than the base unit allows, below the minimum order
    quantity, or not a multiple of the order multiple (those two in the base unit)."""
    factor = units.factor(unit)
    if factor is None:
        known = ", ".join([units.base_unit, *sorted(units.factors)])
        raise QuantityRejected(
            QuantityProblem.UNKNOWN_UNIT, f"{unit} is not a unit of this product ({known})"
        )
    base = quantity * factor
    step = Decimal(1).scaleb(-units.precision)
    if base != base.quantize(step):
        raise QuantityRejected(
            QuantityProblem.TOO_PRECISE,
            f"{_plain(quantity)} {unit} is {_plain(base)} {units.base_unit}; "
            f"{units.base_unit} takes {units.precision} decimals at most",
        )
    if base < units.min_order_qty:
        raise QuantityRejected(
            QuantityProblem.BELOW_MINIMUM,
            f"{_plain(base)} {units.base_unit} is below the minimum order of "
            f"{_plain(units.min_order_qty)} {units.base_unit}",
            valid_base_quantity(units, base),
        )
    if base % units.order_multiple != 0:
        raise QuantityRejected(
            QuantityProblem.NOT_A_MULTIPLE,
            f"{_plain(base)} {units.base_unit} is not a multiple of "
            f"{_plain(units.order_multiple)} {units.base_unit}",
            valid_base_quantity(units, base),
        )
    return _at_precision(units, base)
