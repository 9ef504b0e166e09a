"""Units of measure: conversion to the base unit and the ordering rules, without a server."""

from decimal import Decimal

import pytest

from services.catalog.domain.units import (
    ProductUnits,
    QuantityProblem,
    QuantityRejected,
    to_base_quantity,
)

TILES = ProductUnits(
    base_unit="pcs",
    factors={"pack": Decimal(12), "pallet": Decimal(480)},
    min_order_qty=Decimal(24),
    order_multiple=Decimal(12),
    precision=0,
)
CABLE = ProductUnits(
    base_unit="m",
    factors={"coil": Decimal("50.5")},
    min_order_qty=Decimal("0.5"),
    order_multiple=Decimal("0.5"),
    precision=1,
)


def test_quantities_convert_to_the_base_unit():
    assert to_base_quantity(TILES, "pack", Decimal(3)) == Decimal(36)
    assert to_base_quantity(TILES, "pallet", Decimal(1)) == Decimal(480)
    assert to_base_quantity(TILES, "pcs", Decimal(48)) == Decimal(48)
    assert to_base_quantity(CABLE, "coil", Decimal(2)) == Decimal("101.0")
    assert to_base_quantity(CABLE, "m", Decimal("2.5")) == Decimal("2.5")


@pytest.mark.parametrize(
    ("units", "unit", "quantity", "problem", "suggested"),
    [
        (TILES, "box", Decimal(1), QuantityProblem.UNKNOWN_UNIT, None),
        (TILES, "pack", Decimal("0.5"), QuantityProblem.BELOW_MINIMUM, Decimal(24)),
        (TILES, "pcs", Decimal(30), QuantityProblem.NOT_A_MULTIPLE, Decimal(36)),
        (TILES, "pack", Decimal("2.25"), QuantityProblem.NOT_A_MULTIPLE, Decimal(36)),
        (TILES, "pack", Decimal("2.01"), QuantityProblem.TOO_PRECISE, None),  # 24.12 pieces
        (CABLE, "m", Decimal("1.25"), QuantityProblem.TOO_PRECISE, None),
    ],
)
def test_what_cannot_be_ordered_says_why(units, unit, quantity, problem, suggested):
    with pytest.raises(QuantityRejected) as rejected:
        to_base_quantity(units, unit, quantity)
    assert rejected.value.problem == problem
    assert rejected.value.suggested == suggested


def test_messages_speak_in_units_people_use():
    with pytest.raises(QuantityRejected, match="box is not a unit of this product"):
        to_base_quantity(TILES, "box", Decimal(1))
    with pytest.raises(QuantityRejected, match="6 pcs is below the minimum order of 24 pcs"):
        to_base_quantity(TILES, "pack", Decimal("0.5"))
