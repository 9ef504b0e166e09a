"""Requisition lists: saved SKU lists a company reuses, filled like a cart, copied to a cart."""

from __future__ import annotations

import uuid
from decimal import Decimal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from services.orders.api.deps import CollaboratorsDep
from services.orders.api.quick_order import read_wanted_lines
from services.orders.api.schemas import NOT_THEIR_CLIENT, TOO_MANY_LINES, QuickOrderResult, added
from services.orders.store.models import RequisitionList
from services.orders.usecases import carts as usecase
from services.orders.usecases.access import SHOPPERS
from shared.auth import allow
from shared.db import SessionDep
from shared.fields import line
from shared.pagination import Page, PageDep
from shared.reads import read_of

router = APIRouter(tags=["requisition lists"])
pages = APIRouter(tags=["requisition lists"])


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


def _read(found: RequisitionList, lines: list[tuple[str, Decimal]]) -> ListRead:
    return read_of(
        ListRead, found, lines=[ListLine(sku=sku, quantity=quantity) for sku, quantity in lines]
    )


@pages.get("/requisition-lists", summary="The company's saved lists, by name")
async def list_lists(
    session: SessionDep,
    principal: allow(*SHOPPERS),
    page: PageDep,
    company_id: uuid.UUID | None = None,
) -> Page[ListRead]:
    found = await usecase.lists_of(session, principal, company_id, page)
    return Page.of(found, lambda x: _read(*x))


@router.post(
    "/requisition-lists",
    status_code=201,
    summary="A new, empty saved list",
    responses={
        **NOT_THEIR_CLIENT,
        409: {"description": "The company has a list of this name"},
    },
)
async def create_list(
    body: ListCreate,
    response: Response,
    session: SessionDep,
    collaborators: CollaboratorsDep,
    principal: allow(*SHOPPERS),
) -> ListRead:
    found = await usecase.create_list(session, collaborators, principal, body.company_id, body.name)
    response.headers["Location"] = f"/requisition-lists/{found.id}"
    return _read(found, [])


@router.get("/requisition-lists/{list_id}", summary="One saved list")
async def get_list(
    list_id: uuid.UUID, session: SessionDep, principal: allow(*SHOPPERS)
) -> ListRead:
    return _read(*await usecase.requisition_list(session, principal, list_id))


@router.post(
    "/requisition-lists/{list_id}/lines",
    summary="Add lines as in quick order (pasted text or CSV); bad lines reported one by one",
    responses=TOO_MANY_LINES,
)
async def add_list_lines(
    list_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    collaborators: CollaboratorsDep,
    principal: allow(*SHOPPERS),
) -> QuickOrderResult:
    return added(
        await usecase.add_list_lines(
            session, collaborators, principal, list_id, lambda: read_wanted_lines(request)
        )
    )


@router.delete("/requisition-lists/{list_id}", status_code=204, summary="Drop a saved list")
async def delete_list(
    list_id: uuid.UUID, session: SessionDep, principal: allow(*SHOPPERS)
) -> Response:
    await usecase.drop_list(session, principal, list_id)
    return Response(status_code=204)


@router.post(
    "/requisition-lists/{list_id}/to-cart",
    summary="Add the whole list to a cart; lines no longer orderable are reported",
    responses=TOO_MANY_LINES,
)
async def list_to_cart(
    list_id: uuid.UUID, body: ToCart, session: SessionDep, principal: allow(*SHOPPERS)
) -> QuickOrderResult:
    return added(await usecase.list_to_cart(session, principal, list_id, body.cart_id))
