"""Stock changes applied a batch at a time give what one at a time would."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from shared.clock import utcnow
from shared.contracts.catalog import StockChangedV1
from shared.contracts.stock_levels import Level, Move, apply_changes


def stock_change(sku: str, warehouse: str, available: int, at) -> StockChangedV1:
    return StockChangedV1(
        sku=sku,
        warehouse=warehouse,
        on_hand=Decimal(available),
        reserved=Decimal(0),
        available=Decimal(available),
        changed_at=at,
    )


def test_changes_apply_in_order_as_if_one_at_a_time():
    t = utcnow()
    known = {("A", "MAIN"): Level(Decimal(0), t), ("B", "MAIN"): Level(Decimal(4), t)}
    changes = [
        stock_change("A", "SOUTH", 3, t + timedelta(seconds=1)),  # A back: 3 over both
        stock_change("A", "SOUTH", 0, t + timedelta(seconds=2)),  # gone again
        stock_change("A", "MAIN", 7, t + timedelta(seconds=3)),  # back again
        stock_change("B", "MAIN", 9, t - timedelta(seconds=1)),  # older than B's level: nothing
        stock_change("C", "MAIN", 5, t),  # never heard of before
        stock_change("C", "SOUTH", 2, t),
    ]
    applied = apply_changes(known, changes)
    assert applied.moves == [
        Move("A", Decimal(0), Decimal(3)),
        Move("A", Decimal(3), Decimal(0)),
        Move("A", Decimal(0), Decimal(7)),
        Move("C", None, Decimal(5)),
        Move("C", Decimal(5), Decimal(7)),
    ]
    assert applied.levels == {  # the last word of each warehouse changed
        ("A", "SOUTH"): Level(Decimal(0), t + timedelta(seconds=2)),
        ("A", "MAIN"): Level(Decimal(7), t + timedelta(seconds=3)),
        ("C", "MAIN"): Level(Decimal(5), t),
        ("C", "SOUTH"): Level(Decimal(2), t),
    }
