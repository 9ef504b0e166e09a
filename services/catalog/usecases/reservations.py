"""Stock held for a checkout: reserve (once per reference), read, confirm, release, and the
ends a reservation meets without a request: expiry and the order's own end."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.domain.allocation import same_request
from services.catalog.store import reservations as store
from services.catalog.store.models import Reservation
from shared.clock import utcnow
from shared.problems import Conflict, FieldError, NotFound

LIVE = ("held", "confirmed")  # the states that still hold stock


@dataclass(frozen=True)
class Wanted:
    """One line asked for: a SKU, the one warehouse it must come from (None: any), how much."""

    sku: str
    warehouse: str | None
    quantity: Decimal


@dataclass(frozen=True)
class ReservationView:
    """A reservation (a row, or what `store.reserve` made) with its (sku, warehouse, quantity)
    lines; `created` when this call held the stock."""

    reservation: Reservation | store.Held
    lines: list[Any]
    created: bool = False


async def reserve(
    session: AsyncSession,
    reference: str,
    wanted: list[Wanted],
    ttl: timedelta,
    preferred_warehouse: str | None = None,
    renew: bool = False,
) -> ReservationView:
    """Hold every line or none (409 naming the short ones). A reference holds one reservation:
    the same lines again answer what the first request made (held again under its id when it
    ended and `renew` asks for it); other lines are a 409 naming `reference`."""
    lines = [(w.sku, w.warehouse, w.quantity) for w in wanted]
    existing = await store.by_reference(session, reference)
    if existing is not None:  # a retry answers what the first request made
        held = await store.lines_of(session, existing.id)
        if not same_request(lines, held):
            raise Conflict(
                "This reference holds a reservation of other lines; nothing was reserved.",
                slug="reference-taken",
                errors=[FieldError(field="reference", message="used by another request")],
            )
        if not (renew and await store.ended(session, existing)):
            return ReservationView(existing, held)
    reservation, made = await store.reserve(
        session,
        reference,
        lines,
        ttl,
        preferred_warehouse,
        existing.id if existing is not None else None,
    )
    return ReservationView(reservation, made, created=True)


async def reservation(session: AsyncSession, reservation_id: uuid.UUID) -> ReservationView:
    found = await session.get(Reservation, reservation_id)
    if found is None:
        raise NotFound("No such reservation.")
    return ReservationView(found, await store.lines_of(session, found.id))


async def _locked(session: AsyncSession, reservation_id: uuid.UUID) -> Reservation:
    found = await store.locked(session, reservation_id)
    if found is None:
        raise NotFound("No such reservation.")
    return found


async def confirm(session: AsyncSession, reservation_id: uuid.UUID) -> ReservationView:
    """Keep the stock: the order was placed. A reservation that expired, was released or
    shipped is a 409 (reserve again)."""
    confirmed = await store.confirm_live(session, reservation_id)
    if confirmed is not None:
        return ReservationView(confirmed, await store.lines_of(session, confirmed.id))
    found = await _locked(session, reservation_id)
    if found.state == "held" and found.expires_at <= utcnow():
        await store.give_back(session, found, "expired")
    raise Conflict(f"The reservation is {found.state}; reserve again.")


async def release(session: AsyncSession, reservation_id: uuid.UUID) -> None:
    """Give the stock back; releasing an ended reservation again changes nothing."""
    found = await _locked(session, reservation_id)
    if found.state in LIVE:
        await store.give_back(session, found, "released")


async def release_reference(session: AsyncSession, reference: str) -> None:
    await store.release_reference(session, reference)


async def order_left(session: AsyncSession, reservation_id: uuid.UUID | None, reason: str) -> None:
    """The order behind a reservation ended it: `shipped` (the goods left the warehouse, so
    they leave on hand too) or `released` (cancelled: the stock is free again)."""
    if reservation_id is None:
        return
    found = await store.locked(session, reservation_id)
    if found is not None and found.state in LIVE:
        await store.give_back(session, found, reason, left=reason == "shipped")


async def expire_due(session: AsyncSession) -> int:
    """Release held reservations nobody confirmed in time; how many (a batch at most)."""
    return await store.expire_due(session, utcnow())
