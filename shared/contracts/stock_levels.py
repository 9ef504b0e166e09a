"""How a reader of catalog's `stock.changed` projects it, a batch of events at a time: part of
that contract, since catalog publishes one warehouse's level and its readers need a SKU's total.

Orders (a SKU back in stock) and analytics (a key SKU run out) each keep a `stock_levels`
table of (sku, warehouse, available, changed_at) and care about how a SKU's total over every
warehouse moves. The changes of a batch are applied in their order as if one at a time, in
Python over the levels read in one query, and written in one statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import upsert_unless_newer


@dataclass(frozen=True)
class Level:
    available: Decimal
    changed_at: datetime


class StockChange(Protocol):
    sku: str
    warehouse: str
    available: Decimal
    changed_at: datetime


@dataclass(frozen=True)
class Move:
    """A SKU's total available over every warehouse before and after one change; `before` is
    None when no warehouse of the SKU had been reported."""

    sku: str
    before: Decimal | None
    after: Decimal


@dataclass
class Applied:
    levels: dict[tuple[str, str], Level] = field(default_factory=dict)  # to store
    moves: list[Move] = field(default_factory=list)  # one per change applied, in order


def apply_changes(known: dict[tuple[str, str], Level], changes: Iterable[StockChange]) -> Applied:
    """Changes in their order over the levels known of their SKUs (every warehouse of each). A
    change older than the level it would replace changes nothing, as it would alone."""
    levels = dict(known)
    totals: dict[str, Decimal] = {}
    for (sku, _), level in known.items():
        totals[sku] = totals.get(sku, Decimal(0)) + level.available
    applied = Applied()
    for change in changes:
        key = (change.sku, change.warehouse)
        current = levels.get(key)
        if current is not None and current.changed_at > change.changed_at:
            continue
        before = totals.get(change.sku)
        after = (before or Decimal(0)) - (current.available if current else 0) + change.available
        levels[key] = applied.levels[key] = Level(change.available, change.changed_at)
        totals[change.sku] = after
        applied.moves.append(Move(change.sku, before, after))
    return applied


async def apply_to(session: AsyncSession, model: Any, changes: list[StockChange]) -> list[Move]:
    """Apply the changes to the service's `stock_levels` table (`model`): one read, one write."""
    skus = sorted({c.sku for c in changes})
    rows = await session.execute(
        select(model.sku, model.warehouse, model.available, model.changed_at).where(
            model.sku.in_(skus)
        )
    )
    known = {(sku, warehouse): Level(available, at) for sku, warehouse, available, at in rows}
    applied = apply_changes(known, changes)
    if applied.levels:
        values = [
            {"sku": s, "warehouse": w, "available": v.available, "changed_at": v.changed_at}
            for (s, w), v in applied.levels.items()
        ]
        # unless newer: another transaction may have stored a later level meanwhile
        await upsert_unless_newer(session, model, values, ("sku", "warehouse"), "changed_at")
    return applied.moves
