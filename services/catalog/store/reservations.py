"""Holding stock for a checkout: reserve, confirm, release, expire. All in one transaction
each, with the stock rows locked in a fixed order, so concurrent checkouts never oversell.
A reservation's lines are per SKU and warehouse (a line may be split over warehouses), so
confirming, releasing, expiring and shipping give each warehouse back what it held."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.domain.allocation import allocate
from services.catalog.store.models import Reservation, ReservationLine
from shared.clock import utcnow
from shared.contracts.catalog import ReservedLine, StockReleasedV1, StockReservedV1
from shared.events.outbox import record_event
from shared.problems import Conflict, FieldError


@dataclass(frozen=True)
class Held:
    """A reservation just made, as its answer needs it."""

    id: uuid.UUID
    reference: str
    state: str
    expires_at: datetime


async def reserve(
    session: AsyncSession,
    reference: str,
    wanted: list[tuple[str, str | None, Decimal]],
    ttl: timedelta,
    preferred: str | None = None,
    renewed: uuid.UUID | None = None,
) -> tuple[Held, list[tuple[str, str, Decimal]]]:
    """Hold every line or none, each from the warehouses domain.allocation chooses (the
    `preferred` one first). Two statements whatever the number of lines: the stock rows read
    and locked, then the reservation, its lines and the stock held. Returns the reservation
    and its lines (sku, warehouse, quantity) as stored. `renewed`: the id of this reference's
    reservation that `ended`, held again under that id (its old lines go)."""
    rows = await session.execute(
        text(
            "SELECT sku, warehouse, on_hand - reserved AS available FROM stock_levels "
            "WHERE sku = ANY(:skus) ORDER BY sku, warehouse FOR UPDATE"
        ),
        {"skus": sorted({sku for sku, _, _ in wanted})},
    )
    available = {(r.sku, r.warehouse): r.available for r in rows}
    taken, short = allocate(wanted, available, preferred)
    if short:
        raise Conflict(
            "Not enough stock; nothing was reserved.",
            errors=[
                FieldError(
                    field="quantity",
                    message=f"only {x.available:.3f} of {x.sku} available"
                    + (f" in {x.warehouse}" if x.warehouse is not None else ""),
                    row=x.row,
                )
                for x in short
            ],
        )
    keys = sorted(taken)
    now = utcnow()
    held = Held(renewed or uuid.uuid4(), reference, "held", now + ttl)
    if renewed is not None:
        await session.execute(
            delete(ReservationLine).where(ReservationLine.reservation_id == renewed)
        )
    await session.execute(
        HOLD,
        {
            "id": held.id,
            "reference": reference,
            "expires_at": held.expires_at,
            "now": now,
            "skus": [k[0] for k in keys],
            "warehouses": [k[1] for k in keys],
            "quantities": [taken[k] for k in keys],
        },
    )
    # As stored in numeric(18, 3): quantities carry at most three decimals (the API checks).
    lines = [(s, w, taken[(s, w)].quantize(STORED)) for s, w in keys]
    record_event(
        session,
        StockReservedV1.model_validate(
            {
                "reservation_id": held.id,
                "reference": reference,
                "lines": [{"sku": s, "warehouse": w, "quantity": q} for s, w, q in lines],
                "expires_at": held.expires_at,
            }
        ),
    )
    return held, lines


STORED = Decimal("0.001")
# The reservation (or one that ended, held again), the stock rows (locked before) and the
# reservation's lines in one statement; the lines' foreign key is checked at its end, when
# the reservation is there.
HOLD = text(
    """
    WITH reservation AS (
        INSERT INTO reservations (id, reference, state, expires_at, created_at, updated_at)
        VALUES (:id, :reference, 'held', :expires_at, :now, :now)
        ON CONFLICT (id) DO UPDATE
        SET state = 'held', expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at
    ), wanted AS (
        SELECT * FROM unnest(CAST(:skus AS text[]), CAST(:warehouses AS text[]),
                             CAST(:quantities AS numeric[])) AS x(sku, warehouse, quantity)
    ), held AS (
        UPDATE stock_levels l SET reserved = l.reserved + w.quantity, updated_at = :now
        FROM wanted w
        WHERE l.sku = w.sku AND l.warehouse = w.warehouse
    )
    INSERT INTO reservation_lines (reservation_id, sku, warehouse, quantity)
    SELECT :id, sku, warehouse, quantity FROM wanted
    """
)


async def by_reference(session: AsyncSession, reference: str) -> Reservation | None:
    """The reservation made under `reference`, if any, once no other transaction is making
    one under it: an advisory lock per reference, held to the commit, so two requests with
    one reference never both reserve (the second finds what the first made)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('catalog.reservation:' || :r, 0))"),
        {"r": reference},
    )
    return await session.scalar(select(Reservation).where(Reservation.reference == reference))


async def ended(session: AsyncSession, reservation: Reservation) -> bool:
    """Whether the reservation no longer holds its stock (expired or released; one held past
    its expiry expires now), so its lines may be held again. Goods shipped are not."""
    await session.refresh(reservation, with_for_update=True)
    if reservation.state == "held" and reservation.expires_at <= utcnow():
        await give_back(session, reservation, "expired")
    return reservation.state in ("expired", "released")


async def release_reference(session: AsyncSession, reference: str) -> None:
    """Give back what `reference` holds, once a reservation being made under it is made (the
    same lock). Its sender gave up on an answer, so when there is none yet, one released and
    holding nothing is left: a reservation still on its way under the reference is refused."""
    reservation = await by_reference(session, reference)
    if reservation is None:
        now = utcnow()
        session.add(
            Reservation(
                reference=reference,
                state="released",
                expires_at=now,
                created_at=now,
                updated_at=now,
            )
        )
        return
    await session.refresh(reservation, with_for_update=True)
    if reservation.state in ("held", "confirmed"):
        await give_back(session, reservation, "released")


async def lines_of(session: AsyncSession, reservation_id: uuid.UUID) -> list[Any]:
    """(sku, warehouse, quantity) rows: plain rows, no ORM objects, for 5,000-line carts."""
    result = await session.execute(
        select(ReservationLine.sku, ReservationLine.warehouse, ReservationLine.quantity)
        .where(ReservationLine.reservation_id == reservation_id)
        .order_by(ReservationLine.sku, ReservationLine.warehouse)
    )
    return list(result.all())


async def confirm_live(session: AsyncSession, reservation_id: uuid.UUID) -> Reservation | None:
    """Confirms a held reservation not yet expired (a confirmed one stays so) in one
    statement; None when it is missing, expired or ended, for the caller to say which."""
    now = utcnow()
    live = (Reservation.state == "confirmed") | (
        (Reservation.state == "held") & (Reservation.expires_at > now)
    )
    return await session.scalar(
        update(Reservation)
        .where(Reservation.id == reservation_id, live)
        .values(state="confirmed", updated_at=now)
        .returning(Reservation)
    )


async def locked(session: AsyncSession, reservation_id: uuid.UUID) -> Reservation | None:
    """The reservation, locked for a change of state."""
    return await session.scalar(
        select(Reservation).where(Reservation.id == reservation_id).with_for_update()
    )


async def give_back(
    session: AsyncSession, reservation: Reservation, reason: str, *, left: bool = False
) -> None:
    """End a held or confirmed reservation as `reason`. Its stock is free again, unless the
    goods `left` the warehouse: then they leave on hand too, so available stock stays right
    until ERP's next stock feed counts them itself."""
    lines = await lines_of(session, reservation.id)
    await session.execute(
        text(
            """
            UPDATE stock_levels l SET reserved = greatest(l.reserved - r.quantity, 0),
                on_hand = CASE WHEN :left THEN greatest(l.on_hand - r.quantity, 0)
                               ELSE l.on_hand END,
                updated_at = CAST(:now AS timestamptz)
            FROM reservation_lines r
            WHERE r.reservation_id = :id AND l.sku = r.sku AND l.warehouse = r.warehouse
            """
        ),
        {"now": utcnow(), "id": reservation.id, "left": left},
    )
    reservation.state, reservation.updated_at = reason, utcnow()
    record_event(
        session,
        StockReleasedV1(
            reservation_id=reservation.id,
            reference=reservation.reference,
            reason=reason,
            lines=[
                ReservedLine(sku=x.sku, warehouse=x.warehouse, quantity=x.quantity) for x in lines
            ],
        ),
    )
    await session.flush()


async def expire_due(session: AsyncSession, now: datetime, limit: int = 200) -> int:
    """Release held reservations past their expiry; other workers skip the locked ones."""
    due = list(
        await session.scalars(
            select(Reservation)
            .where(Reservation.state == "held", Reservation.expires_at < now)
            .order_by(Reservation.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for reservation in due:
        await give_back(session, reservation, "expired")
    return len(due)
