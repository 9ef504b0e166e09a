"""Shipments: an order leaves in parts (by warehouse, or stock now and made-to-order later).

A shipment carries quantities of the order's SKUs, never more than is left to ship. The order
is shipped when its first shipment leaves, and delivered when everything ordered has left and
every shipment has arrived.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal


class ShipmentRefused(ValueError):
    pass


def left_to_ship(
    ordered: Mapping[str, Decimal], shipped: Iterable[Mapping[str, Decimal]]
) -> dict[str, Decimal]:
    left = dict(ordered)
    for shipment in shipped:
        for sku, quantity in shipment.items():
            left[sku] = left.get(sku, Decimal(0)) - quantity
    return {sku: q for sku, q in left.items() if q > 0}


def shipment_lines(
    left: Mapping[str, Decimal], wanted: Mapping[str, Decimal] | None
) -> dict[str, Decimal]:
    """What a new shipment carries: the quantities ERP names, or everything left to ship."""
    if wanted is None:
        if not left:
            raise ShipmentRefused("everything ordered has shipped already")
        return dict(left)
    for sku, quantity in wanted.items():
        if sku not in left and quantity > 0:
            raise ShipmentRefused(f"{sku} is not in the order or has all shipped")
        if quantity > left.get(sku, Decimal(0)):
            raise ShipmentRefused(f"{sku}: {quantity} is more than the {left[sku]} left to ship")
    carried = {sku: q for sku, q in wanted.items() if q > 0}
    if not carried:
        raise ShipmentRefused("the shipment carries nothing")
    return carried


def delivered_lines(
    carried: Mapping[str, Decimal], reported: Mapping[str, Decimal] | None
) -> dict[str, Decimal]:
    """What arrived of a shipment: ERP's figures, or all it carried. An SKU not reported did
    not arrive; more than was carried cannot."""
    if reported is None:
        return dict(carried)
    for sku, quantity in reported.items():
        if quantity > carried.get(sku, Decimal(0)):
            raise ShipmentRefused(f"{sku}: {quantity} delivered but the shipment carried less")
    return {sku: reported.get(sku, Decimal(0)) for sku in carried}
