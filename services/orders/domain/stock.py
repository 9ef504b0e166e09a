"""Stock as orders sees it: when a SKU counts as back in stock for the clients who keep it on
their requisition lists, and which warehouses hold each order line's goods."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

STORED = Decimal("0.001")


def back_in_stock(before: Decimal | None, after: Decimal) -> bool:
    """Available nowhere before (over every warehouse we knew of), available somewhere now.

    A SKU never seen before (`before` is None) is not "back": the first stock feed of a new
    catalog would otherwise tell every list of every SKU."""
    return before is not None and before <= 0 < after


def sources_by_line(
    lines: Sequence[tuple[str, Decimal]], held: Iterable[tuple[str, str, Decimal]]
) -> list[list[dict[str, str]]]:
    """Where each (sku, quantity) order line's goods are held, as
    [{"warehouse": ..., "quantity": "40.000"}], from the reservation's (sku, warehouse,
    quantity) rows. A SKU on several lines is shared out in turn, the first line first."""
    left: dict[str, list[list]] = {}
    for sku, warehouse, quantity in held:
        left.setdefault(sku, []).append([warehouse, Decimal(quantity)])
    out = []
    for sku, quantity in lines:
        need, mine = Decimal(quantity), []
        for source in left.get(sku, []):
            take = min(source[1], need)
            if take > 0:
                mine.append({"warehouse": source[0], "quantity": str(take.quantize(STORED))})
                source[1] -= take
                need -= take
        out.append(mine)
    return out
