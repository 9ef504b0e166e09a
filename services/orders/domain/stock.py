"""When a SKU counts as back in stock for the clients who keep it on their requisition lists."""

from __future__ import annotations

from decimal import Decimal


def back_in_stock(before: Decimal | None, after: Decimal) -> bool:
    """Available nowhere before (over every warehouse we knew of), available somewhere now.

    A SKU never seen before (`before` is None) is not "back": the first stock feed of a new
    catalog would otherwise tell every list of every SKU."""
    return before is not None and before <= 0 < after
