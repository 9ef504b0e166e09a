"""Named carts, priced by pricing in one call, filled line by line, by quick order or from
a requisition list or a past order."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from services.orders.api.deps import CollaboratorsDep
from services.orders.api.quick_order import read_wanted_lines
from services.orders.api.schemas import NOT_THEIR_CLIENT, TOO_MANY_LINES, QuickOrderResult, added
from services.orders.domain.lines import MAX_LINES, WantedLine, line_total
from services.orders.usecases import carts as usecase
from services.orders.usecases.access import SHOPPERS
from shared.apiconventions import examples
from shared.auth import allow
from shared.db import SessionDep
from shared.fields import Quantity, Sku, code, line
from shared.pagination import Page, PageDep
from shared.reads import read_of

router = APIRouter(tags=["carts"])
pages = APIRouter(tags=["carts"])


@examples({"name": "Tower B"})
class CartCreate(BaseModel):
    name: line(100, min_length=1) = Field("Main", description="e.g. the project")
    company_id: uuid.UUID | None = Field(None, description="Staff only: the client")


@examples(
    {
        "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        "name": "Tower B",
        "company_id": "7b3f6a52-9a4e-4f1e-8a31-0c2d9b6e5f10",
        "lines": 0,
    }
)
class CartSummary(BaseModel):
    id: uuid.UUID
    name: str
    company_id: uuid.UUID
    lines: int


class LineIn(BaseModel):
    sku: Sku
    quantity: Quantity
    unit: code(16) | None = Field(None, description="pack, coil, pallet...: kept in the base unit")


@examples(
    {
        "lines": [
            {"sku": "KN-100", "quantity": "20"},
            {"sku": "CE-200", "quantity": "2", "unit": "pallet"},
        ],
        "add": False,
    }
)
class LinesIn(BaseModel):
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)
    add: bool = Field(False, description="Add to the quantity in the cart instead of setting it")


class NextTier(BaseModel):
    min_qty: Decimal
    unit_price_minor: int


class CartLineRead(BaseModel):
    sku: str
    name: str | None
    unit: str | None
    quantity: Decimal
    list_price_minor: int | None = Field(
        description="The price of what won (the client's contract, its list) before discounts"
    )
    base_price_minor: int | None = Field(
        description="The base list's price for this quantity, whatever the client's terms: "
        "the list price to show against the client's own"
    )
    unit_price_minor: int | None = Field(description="The client's price; null: not priced")
    line_total_minor: int | None
    savings_minor: int = Field(description="(list - client price) x quantity")
    rule: str | None
    next_tier: NextTier | None


@examples(
    {
        "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        "name": "Tower B",
        "company_id": "7b3f6a52-9a4e-4f1e-8a31-0c2d9b6e5f10",
        "currency": "EUR",
        "lines": [
            {
                "sku": "KN-100",
                "name": "Knauf board 12.5 mm",
                "unit": "m2",
                "quantity": "20",
                "list_price_minor": 400,
                "base_price_minor": 480,
                "unit_price_minor": 400,
                "line_total_minor": 8000,
                "savings_minor": 0,
                "rule": "contract",
                "next_tier": None,
            },
            {
                "sku": "CE-200",
                "name": "Ceresit CE 200 grout",
                "unit": "kg",
                "quantity": "10",
                "list_price_minor": 1250,
                "base_price_minor": 1250,
                "unit_price_minor": 1188,
                "line_total_minor": 11880,
                "savings_minor": 620,
                "rule": "client_discount:brand:Ceresit",
                "next_tier": {"min_qty": "50", "unit_price_minor": 1045},
            },
        ],
        "total_minor": 19880,
        "savings_minor": 620,
        "unpriced": [],
    }
)
class CartRead(BaseModel):
    id: uuid.UUID
    name: str
    company_id: uuid.UUID
    currency: str | None
    lines: list[CartLineRead]
    total_minor: int
    savings_minor: int
    unpriced: list[str] = Field(description="SKUs without a price for this client")


def _priced(view: usecase.PricedCartView) -> CartRead:
    """The cart's lines with their prices: line totals, savings against the list price, the
    SKUs without a price."""
    cart, rows, priced = view.cart, view.rows, view.priced
    if priced is None:
        return read_of(
            CartRead, cart, currency=None, lines=[], total_minor=0, savings_minor=0, unpriced=[]
        )
    lines, total, savings, unpriced = [], 0, 0, []
    for (sku, quantity, name, unit), p in zip(rows, priced.lines, strict=True):
        amount = (
            line_total(p.unit_price_minor, quantity) if p.unit_price_minor is not None else None
        )
        saved = (
            line_total(p.list_price_minor - p.unit_price_minor, quantity)
            if p.list_price_minor is not None and p.unit_price_minor is not None
            else 0
        )
        if amount is None:
            unpriced.append(sku)
        total += amount or 0
        savings += saved
        # the prices and the rule as pricing gave them; the rest is the cart's
        lines.append(
            read_of(
                CartLineRead,
                p,
                sku=sku,
                name=name,
                unit=unit,
                quantity=quantity,
                line_total_minor=amount,
                savings_minor=saved,
                next_tier=NextTier(**p.next_tier) if p.next_tier else None,
            )
        )
    return read_of(
        CartRead,
        cart,
        currency=priced.currency,
        lines=lines,
        total_minor=total,
        savings_minor=savings,
        unpriced=unpriced,
    )


@pages.get("/carts", summary="My carts for the company I act for, by name")
async def list_carts(
    session: SessionDep,
    principal: allow(*SHOPPERS),
    page: PageDep,
    company_id: uuid.UUID | None = None,
) -> Page[CartSummary]:
    return Page.of(
        await usecase.carts_of(session, principal, company_id, page),
        lambda found: read_of(CartSummary, found[0], lines=found[1]),
    )


@router.post(
    "/carts",
    status_code=201,
    summary="A new named cart (one per project, say)",
    responses={
        **NOT_THEIR_CLIENT,
        409: {"description": "The caller has a cart of this name"},
    },
)
async def create_cart(
    body: CartCreate,
    response: Response,
    session: SessionDep,
    collaborators: CollaboratorsDep,
    principal: allow(*SHOPPERS),
) -> CartSummary:
    cart = await usecase.create_cart(session, collaborators, principal, body.company_id, body.name)
    response.headers["Location"] = f"/carts/{cart.id}"
    return read_of(CartSummary, cart, lines=0)


@router.get(
    "/carts/{cart_id}",
    summary="The cart priced for the client: list price, client price, savings, next tier",
)
async def get_cart(
    cart_id: uuid.UUID,
    session: SessionDep,
    collaborators: CollaboratorsDep,
    principal: allow(*SHOPPERS),
) -> CartRead:
    return _priced(await usecase.priced_cart(session, collaborators, principal, cart_id))


@router.delete("/carts/{cart_id}", status_code=204, summary="Drop a cart and its lines")
async def delete_cart(
    cart_id: uuid.UUID, session: SessionDep, principal: allow(*SHOPPERS)
) -> Response:
    await usecase.drop_cart(session, principal, cart_id)
    return Response(status_code=204)


@router.put(
    "/carts/{cart_id}/lines",
    summary="Set (or add to) line quantities; every line must be orderable or nothing changes",
    responses=TOO_MANY_LINES,
)
async def put_lines(
    cart_id: uuid.UUID,
    body: LinesIn,
    session: SessionDep,
    collaborators: CollaboratorsDep,
    principal: allow(*SHOPPERS),
) -> CartSummary:
    wanted = [WantedLine(i, x.sku, str(x.quantity), x.unit) for i, x in enumerate(body.lines, 1)]
    cart, count = await usecase.set_lines(
        session, collaborators, principal, cart_id, wanted, body.add
    )
    return read_of(CartSummary, cart, lines=count)


@router.delete("/carts/{cart_id}/lines", status_code=204, summary="Remove lines by SKU")
async def remove_lines(
    cart_id: uuid.UUID,
    session: SessionDep,
    principal: allow(*SHOPPERS),
    sku: Annotated[list[Sku], Query(min_length=1, max_length=MAX_LINES)],
) -> Response:
    await usecase.remove_lines(session, principal, cart_id, sku)
    return Response(status_code=204)


@router.post(
    "/carts/{cart_id}/quick-order",
    summary="Add a pasted SKU list (text/plain) or a CSV file (sku,quantity); bad lines are "
    "reported one by one and the rest added",
    openapi_extra={
        "requestBody": {
            "content": {
                "text/plain": {"schema": {"type": "string"}, "example": "CE-200 10\nKN-100 5"},
                "text/csv": {"schema": {"type": "string"}, "example": "sku,quantity\nCE-200,10"},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
            "required": True,
        }
    },
    responses=TOO_MANY_LINES,
)
async def quick_order(
    cart_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    collaborators: CollaboratorsDep,
    principal: allow(*SHOPPERS),
) -> QuickOrderResult:
    return added(
        await usecase.quick_order(
            session, collaborators, principal, cart_id, lambda: read_wanted_lines(request)
        )
    )


@router.delete("/carts/{cart_id}/all-lines", status_code=204, summary="Empty the cart")
async def empty_cart(
    cart_id: uuid.UUID, session: SessionDep, principal: allow(*SHOPPERS)
) -> Response:
    await usecase.empty_cart(session, principal, cart_id)
    return Response(status_code=204)
