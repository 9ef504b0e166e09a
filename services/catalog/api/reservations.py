"""Stock reservations for checkout: the orders service holds stock, then confirms or releases."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from services.catalog.usecases import reservations as usecase
from services.catalog.usecases.reservations import ReservationView
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.fields import Code, Quantity, Sku, code
from shared.links import public_path

router = APIRouter(tags=["reservations"])
HOLDERS = (Role.SYSTEM, Role.ADMIN)  # the orders service at checkout; staff to repair


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


def _read(
    view: ReservationView, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """The reservation (ReservationRead's shape) with its lines: plain dicts through orjson, so
    a 5,000-line reservation builds no model per line."""
    reservation = view.reservation
    document = {
        "id": reservation.id,
        "reference": reservation.reference,
        "state": reservation.state,
        "expires_at": reservation.expires_at,
        "lines": [{"sku": s, "warehouse": w, "quantity": q} for s, w, q in view.lines],
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
    view = await usecase.reserve(
        session,
        body.reference,
        [usecase.Wanted(x.sku, x.warehouse, x.quantity) for x in body.lines],
        timedelta(minutes=body.ttl_minutes),
        body.preferred_warehouse,
        body.renew,
    )
    if not view.created:
        return _read(view)
    location = public_path(request, "get_reservation", reservation_id=str(view.reservation.id))
    return _read(view, 201, {"Location": location})


@router.get(
    "/reservations/{reservation_id}",
    summary="One reservation",
    name="get_reservation",
    response_model=ReservationRead,
)
async def get_reservation(
    reservation_id: uuid.UUID, session: SessionDep, principal: allow(*HOLDERS)
) -> Response:
    return _read(await usecase.reservation(session, reservation_id))


@router.post(
    "/reservations/{reservation_id}/confirm",
    summary="Keep the stock held: the order was placed (it no longer expires)",
    response_model=ReservationRead,
    responses={
        409: {"description": "No longer held (released, expired or shipped): reserve again"}
    },
)
async def confirm_reservation(
    reservation_id: uuid.UUID, session: SessionDep, principal: allow(*HOLDERS)
) -> Response:
    return _read(await usecase.confirm(session, reservation_id))


@router.delete(
    "/reservations/{reservation_id}",
    status_code=204,
    summary="Give the stock back (a cancelled checkout or order); releasing twice is harmless",
)
async def release_reservation(
    reservation_id: uuid.UUID, session: SessionDep, principal: allow(*HOLDERS)
) -> Response:
    await usecase.release(session, reservation_id)
    return Response(status_code=204)  # with `-> None`, FastAPI would still say it is JSON


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
    await usecase.release_reference(session, reference)
