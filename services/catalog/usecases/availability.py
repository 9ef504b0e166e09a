"""Availability per line: for a cart's lines, what ships from stock (per warehouse, the
preferred one first), what would be produced and when each is ready; the rules are
`domain.supply`'s."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.domain.supply import Asked, LineAvailability, availability
from services.catalog.store import availability as store
from shared.clock import today
from shared.problems import FieldError, Unprocessable


@dataclass(frozen=True)
class Availability:
    today: date
    lines: list[LineAvailability]


async def lines_availability(
    session: AsyncSession, lines: list[Asked], preferred_warehouse: str | None = None
) -> Availability:
    """An answer per line, in the order sent: a line that cannot be served says why. An
    unknown preferred warehouse is a 422: it concerns the whole request. Three queries
    whatever the number of lines (terms, stock, warehouses)."""
    skus = [line.sku for line in lines]
    named = {line.warehouse for line in lines if line.warehouse is not None}
    if preferred_warehouse is not None:
        named.add(preferred_warehouse)
    terms = await store.supply_terms(session, skus)
    stock = await store.available_by_warehouse(session, skus)
    warehouses = await store.known_warehouses(session, named) if named else set()
    if preferred_warehouse is not None and preferred_warehouse not in warehouses:
        raise Unprocessable(
            f"No warehouse {preferred_warehouse}.",
            errors=[FieldError(field="preferred_warehouse", message="is not a known warehouse")],
        )
    day = today()
    return Availability(
        day, availability(lines, terms, stock, warehouses, day, preferred_warehouse)
    )
