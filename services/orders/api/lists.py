"""Requisition lists: saved SKU lists a company reuses, filled like a cart, copied to a cart."""

from __future__ import annotations

import uuid
from decimal import Decimal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.orders.api.access import SHOPPERS, acting_client, company_list, own_cart
from services.orders.api.carts import (
    QuickOrderResult,
    add_wanted,
    read_wanted_lines,
)
from services.orders.domain.lines import WantedLine
from services.orders.store.catalog import CLIENTS
from services.orders.store.models import RequisitionList, RequisitionListLine
from shared.auth import allow
from shared.db import SessionDep
from shared.fields import line
from shared.problems import Conflict, FieldError, Unprocessable

router = APIRouter(tags=["requisition lists"])


class ListCreate(BaseModel):
    name: line(100, min_length=1)
    company_id: uuid.UUID | None = Field(None, description="Staff only: the client")


class ListLine(BaseModel):
    sku: str
    quantity: Decimal


class ListRead(BaseModel):
    id: uuid.UUID
    name: str
    company_id: uuid.UUID
    created_by: str
    lines: list[ListLine]


class ToCart(BaseModel):
    cart_id: uuid.UUID


async def _read_all(session: SessionDep, lists: list[RequisitionList]) -> list[ListRead]:
    """The lists with their lines, read in one query however many lists there are."""
    lines: dict[uuid.UUID, list[ListLine]] = {x.id: [] for x in lists}
    rows = await session.execute(
        select(RequisitionListLine.list_id, RequisitionListLine.sku, RequisitionListLine.quantity)
        .where(RequisitionListLine.list_id.in_(list(lines)))
        .order_by(RequisitionListLine.list_id, RequisitionListLine.sku)
    )
    for list_id, sku, quantity in rows:
        lines[list_id].append(ListLine(sku=sku, quantity=quantity))
    return [
        ListRead(
            id=x.id,
            name=x.name,
            company_id=x.company_id,
            created_by=x.created_by,
            lines=lines[x.id],
        )
        for x in lists
    ]


async def _read(session: SessionDep, found: RequisitionList) -> ListRead:
    return (await _read_all(session, [found]))[0]


@router.get("/requisition-lists", summary="The company's saved lists")
async def list_lists(
    session: SessionDep, principal: allow(*SHOPPERS), company_id: uuid.UUID | None = None
) -> list[ListRead]:
    company = await acting_client(session, principal, company_id)
    found = await session.scalars(
        select(RequisitionList)
        .where(RequisitionList.company_id == company)
        .order_by(RequisitionList.name)
    )
    return await _read_all(session, list(found))


@router.post("/requisition-lists", status_code=201, summary="A new, empty saved list")
async def create_list(
    body: ListCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: allow(*SHOPPERS),
) -> ListRead:
    company_id = await acting_client(session, principal, body.company_id)
    await CLIENTS.ensure_known(
        session, principal, request.app.state.upstreams, {company_id: "company_id"}
    )
    found = RequisitionList(
        company_id=company_id, name=body.name, created_by=str(principal.subject)
    )
    session.add(found)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"The company already has a list named {body.name!r}.") from exc
    response.headers["Location"] = f"/requisition-lists/{found.id}"
    return await _read(session, found)


@router.get("/requisition-lists/{list_id}", summary="One saved list")
async def get_list(
    list_id: uuid.UUID, session: SessionDep, principal: allow(*SHOPPERS)
) -> ListRead:
    return await _read(session, await company_list(session, principal, list_id))


@router.post(
    "/requisition-lists/{list_id}/lines",
    summary="Add lines as in quick order (pasted text or CSV); bad lines reported one by one",
)
async def add_list_lines(
    list_id: uuid.UUID, request: Request, session: SessionDep, principal: allow(*SHOPPERS)
) -> QuickOrderResult:
    found = await company_list(session, principal, list_id)
    return await add_wanted(
        session,
        found.id,
        await read_wanted_lines(request),
        requisition=True,
        request=request,
        principal=principal,
    )


@router.delete("/requisition-lists/{list_id}", status_code=204, summary="Drop a saved list")
async def delete_list(
    list_id: uuid.UUID, session: SessionDep, principal: allow(*SHOPPERS)
) -> Response:
    await session.delete(await company_list(session, principal, list_id))
    return Response(status_code=204)


@router.post(
    "/requisition-lists/{list_id}/to-cart",
    summary="Add the whole list to a cart; lines no longer orderable are reported",
)
async def list_to_cart(
    list_id: uuid.UUID, body: ToCart, session: SessionDep, principal: allow(*SHOPPERS)
) -> QuickOrderResult:
    found = await _read(session, await company_list(session, principal, list_id))
    cart = await own_cart(session, principal, body.cart_id)
    if cart.company_id != found.company_id:
        raise Unprocessable(
            "The cart is for another company.",
            errors=[FieldError(field="cart_id", message="is for another company")],
        )
    wanted = [WantedLine(i, x.sku, str(x.quantity)) for i, x in enumerate(found.lines, 1)]
    return await add_wanted(session, cart.id, wanted)
