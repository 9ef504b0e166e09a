"""Stock reservations for checkout: the orders service holds stock, then confirms or releases."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, FastAPI, Query, Request, Response
from pydantic import BaseModel, Field

from services.catalog.domain.allocation import same_request
from services.catalog.store import reservations as store
from services.catalog.store.models import Reservation
from shared.auth import Role, allow
from shared.clock import utcnow
from shared.db import SessionDep
from shared.fields import Code, Quantity, Sku, code
from shared.links import public_path
from shared.problems import Conflict, FieldError, NotFound

router = APIRouter(tags=["reservations"])
log = logging.getLogger(__name__)
HOLDERS = (Role.SYSTEM, Role.ADMIN)  # the orders service at checkout; staff to repair
EXPIRY_POLL_SECONDS = 5.0


class LineWanted(BaseModel):
    sku: Sku
    warehouse: Code | None = Field(
        None,
        description="Hold it only from this warehouse. Default: from every warehouse holding "
        "the SKU, the preferred one first, then the one with the most available, then by "
        "code; split when one is not enough",
    )
    quantity: Quantity


class ReservationCreate(BaseModel):
    reference: code(200) = Field(description="Checkout or order id; one per reference")
    ttl_minutes: int = Field(15, ge=1, le=24 * 60)
    preferred_warehouse: Code | None = Field(
        None, description="The buyer's warehouse: lines draw from it first"
    )
    lines: list[LineWanted] = Field(min_length=1, max_length=5_000)
    renew: bool = Field(
        False,
        description="When this reference's reservation of the same lines has ended (it expired "
        "or was released), hold them again, drawn afresh, under the same id: a checkout whose "
        "stock was given back before it could confirm. Default: answer that reservation as it is",
    )


class LineRead(BaseModel):
    """What one warehouse holds of a SKU for the reservation: a line split over warehouses
    is one of these per warehouse."""

    sku: str
    warehouse: str
    quantity: Decimal


class ReservationRead(BaseModel):
    id: uuid.UUID
    reference: str
    state: Literal["held", "confirmed", "released", "expired", "shipped"]
    expires_at: datetime
    lines: list[LineRead]


async def _read(
    session: Any,
    reservation: Reservation | store.Held,
    lines: list[Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """The reservation (ReservationRead's shape) with its lines, read unless given: plain
    dicts through orjson, so a 5,000-line reservation builds no model per line."""
    if lines is None:
        lines = await store.lines_of(session, reservation.id)
    document = {
        "id": reservation.id,
        "reference": reservation.reference,
        "state": reservation.state,
        "expires_at": reservation.expires_at,
        "lines": [{"sku": s, "warehouse": w, "quantity": q} for s, w, q in lines],
    }
    return Response(
        orjson.dumps(document, default=str, option=orjson.OPT_UTC_Z),  # str: Decimal quantities
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


@router.post(
    "/reservations",
    status_code=201,
    summary="Hold stock for every line, or none (409 names the lines short of stock); a line "
    "is split over warehouses when one is not enough",
    response_model=ReservationRead,
    responses={
        200: {"description": "The same request under this reference before: its reservation"},
        201: {"description": "Held (again, with `renew`, under the same id)"},
        409: {
            "description": "Not enough stock, or the reference holds a reservation of other lines"
        },
    },
)
async def create_reservation(
    body: ReservationCreate,
    request: Request,
    session: SessionDep,
    principal: allow(*HOLDERS),
) -> Response:
    wanted = [(x.sku, x.warehouse, x.quantity) for x in body.lines]
    existing = await store.by_reference(session, body.reference)
    if existing is not None:  # a retry answers what the first request made
        held = await store.lines_of(session, existing.id)
        if not same_request(wanted, held):
            raise Conflict(
                "This reference holds a reservation of other lines; nothing was reserved.",
                slug="reference-taken",
                errors=[FieldError(field="reference", message="used by another request")],
            )
        if not (body.renew and await store.ended(session, existing)):
            return await _read(session, existing, held)
    reservation, lines = await store.reserve(
        session,
        body.reference,
        wanted,
        timedelta(minutes=body.ttl_minutes),
        body.preferred_warehouse,
        existing.id if existing is not None else None,
    )
    location = public_path(request, "get_reservation", reservation_id=str(reservation.id))
    return await _read(session, reservation, lines, 201, {"Location": location})


@router.get(
    "/reservations/{reservation_id}",
    summary="One reservation",
    name="get_reservation",
    response_model=ReservationRead,
)
async def get_reservation(
    reservation_id: uuid.UUID, session: SessionDep, principal: allow(*HOLDERS)
) -> Response:
    reservation = await session.get(Reservation, reservation_id)
    if reservation is None:
        raise NotFound("No such reservation.")
    return await _read(session, reservation)


@router.post(
    "/reservations/{reservation_id}/confirm",
    summary="Keep the stock held: the order was placed (it no longer expires)",
    response_model=ReservationRead,
)
async def confirm_reservation(
    reservation_id: uuid.UUID, session: SessionDep, principal: allow(*HOLDERS)
) -> Response:
    reservation = await store.confirm_live(session, reservation_id)
    if reservation is not None:
        return await _read(session, reservation)
    reservation = await store.locked(session, reservation_id)
    if reservation is None:
        raise NotFound("No such reservation.")
    if reservation.state == "held" and reservation.expires_at <= utcnow():
        await store.give_back(session, reservation, "expired")
    raise Conflict(f"The reservation is {reservation.state}; reserve again.")


@router.delete(
    "/reservations/{reservation_id}",
    status_code=204,
    summary="Give the stock back (a cancelled checkout or order); releasing twice is harmless",
)
async def release_reservation(
    reservation_id: uuid.UUID, session: SessionDep, principal: allow(*HOLDERS)
) -> None:
    reservation = await store.locked(session, reservation_id)
    if reservation is None:
        raise NotFound("No such reservation.")
    if reservation.state in ("held", "confirmed"):
        await store.give_back(session, reservation, "released")


@router.delete(
    "/reservations",
    status_code=204,
    summary="Give back the stock held under a reference, if any: a checkout interrupted before "
    "it kept the reservation's id, or whose reservation's answer was lost; a reservation still "
    "on its way under the reference afterwards holds nothing",
)
async def release_by_reference(
    reference: Annotated[code(200), Query()],
    session: SessionDep,
    principal: allow(*HOLDERS),
) -> None:
    await store.release_reference(session, reference)


async def expire_reservations(app: FastAPI) -> None:
    """Worker: release held reservations nobody confirmed in time."""
    while True:
        try:
            async with app.state.sessionmaker() as session, session.begin():
                released = await store.expire_due(session, utcnow())
            if released:
                log.info("released %d expired reservations", released)
                continue
        except Exception:
            log.exception("reservation expiry failed; retrying")
        await asyncio.sleep(EXPIRY_POLL_SECONDS)
