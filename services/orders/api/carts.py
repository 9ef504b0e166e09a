"""Named carts, priced by pricing in one call, filled line by line, by quick order or from
a requisition list or a past order."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile

from services.orders import upstream
from services.orders.api.access import (
    SHOPPERS,
    acting_client,
    acting_company,
    in_scope,
    own_cart,
)
from services.orders.domain.lines import (
    MAX_LINES,
    LineProblem,
    OrderingRules,
    WantedLine,
    check_lines,
    line_total,
    needs_conversion,
    parse_csv,
    parse_pasted,
)
from services.orders.store import carts as store
from services.orders.store.catalog import CLIENTS, ordering_rules
from services.orders.store.models import Cart, CartLine
from shared.auth import Principal, allow
from shared.db import SessionDep, release
from shared.fields import Quantity, Sku, code, line
from shared.problems import Conflict, FieldError, RowNumber, Unprocessable

router = APIRouter(tags=["carts"])
MAX_QUICK_ORDER_BYTES = 2 * 1024 * 1024


class CartCreate(BaseModel):
    name: line(100, min_length=1) = Field("Main", description="e.g. the project")
    company_id: uuid.UUID | None = Field(None, description="Staff only: the client")


class CartSummary(BaseModel):
    id: uuid.UUID
    name: str
    company_id: uuid.UUID
    lines: int


class LineIn(BaseModel):
    sku: Sku
    quantity: Quantity
    unit: code(16) | None = Field(None, description="pack, coil, pallet...: kept in the base unit")


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
    list_price_minor: int | None
    unit_price_minor: int | None = Field(description="The client's price; null: not priced")
    line_total_minor: int | None
    savings_minor: int = Field(description="(list - client price) x quantity")
    rule: str | None
    next_tier: NextTier | None


class CartRead(BaseModel):
    id: uuid.UUID
    name: str
    company_id: uuid.UUID
    currency: str | None
    lines: list[CartLineRead]
    total_minor: int
    savings_minor: int
    unpriced: list[str] = Field(description="SKUs without a price for this client")


class LineProblemRead(BaseModel):
    row: RowNumber
    sku: str
    field: str
    reason: str


class QuickOrderResult(BaseModel):
    added: int = Field(description="Lines added or increased")
    problems: list[LineProblemRead]


async def priced_cart(
    request: Request,
    cart: Cart,
    rows: list[tuple[str, Decimal, str | None, str | None]],
    principal: Any,
) -> CartRead:
    """The cart's lines (sku, quantity, name, unit) priced by pricing in one call."""
    if not rows:
        return CartRead(
            id=cart.id,
            name=cart.name,
            company_id=cart.company_id,
            currency=None,
            lines=[],
            total_minor=0,
            savings_minor=0,
            unpriced=[],
        )
    priced = await upstream.price_cart(
        request.app, principal, cart.company_id, [(sku, q) for sku, q, _, _ in rows]
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
        lines.append(
            CartLineRead(
                sku=sku,
                name=name,
                unit=unit,
                quantity=quantity,
                list_price_minor=p.list_price_minor,
                unit_price_minor=p.unit_price_minor,
                line_total_minor=amount,
                savings_minor=saved,
                rule=p.rule,
                next_tier=NextTier(**p.next_tier) if p.next_tier else None,
            )
        )
    return CartRead(
        id=cart.id,
        name=cart.name,
        company_id=cart.company_id,
        currency=priced.currency,
        lines=lines,
        total_minor=total,
        savings_minor=savings,
        unpriced=unpriced,
    )


async def in_base_units(
    request: Request | None,
    principal: Principal | None,
    wanted: list[WantedLine],
    rules: dict[str, OrderingRules],
) -> tuple[list[WantedLine], list[LineProblem]]:
    """Lines ordered in packs, coils or pallets, converted to the base unit by catalog in one
    call; a line it refuses becomes a problem (unknown unit, not a whole pack...)."""
    convert = [
        i
        for i, w in enumerate(wanted)
        if needs_conversion(w, rules.get(w.sku)) and _positive(w.quantity)
    ]
    if not convert or request is None:
        return wanted, []
    verdicts = await upstream.convert_quantities(
        request.app,
        principal,
        [(wanted[i].sku, wanted[i].unit or "", wanted[i].quantity or "") for i in convert],
    )
    converted, problems = list(wanted), []
    for i, verdict in zip(convert, verdicts, strict=True):
        line = wanted[i]
        if verdict["ok"]:
            converted[i] = replace(line, quantity=verdict["base_quantity"], unit=None)
        else:
            field = "unit" if verdict["problem"] == "unknown_unit" else "quantity"
            problems.append(LineProblem(line.row, line.sku, field, verdict["message"]))
    refused = {p.row for p in problems}
    return [w for w in converted if w.row not in refused], problems


def _positive(quantity: str | None) -> bool:
    try:
        return quantity is not None and Decimal(quantity) > 0
    except InvalidOperation:
        return False


async def add_wanted(
    session: Any,
    owner_id: uuid.UUID,
    wanted: list[WantedLine],
    *,
    requisition: bool = False,
    request: Request | None = None,
    principal: Principal | None = None,
) -> QuickOrderResult:
    """Adds the good lines; reports the rest per line."""
    if len(wanted) > MAX_LINES:
        raise Unprocessable(f"At most {MAX_LINES} lines at once; this has {len(wanted)}.")
    rules = await ordering_rules(session, [w.sku for w in wanted])
    wanted, unit_problems = await in_base_units(request, principal, wanted, rules)
    good, problems = check_lines(wanted, rules)
    problems = sorted(unit_problems + problems, key=lambda p: p.row)
    await store.put_lines(session, owner_id, good, add=True, requisition=requisition)
    return QuickOrderResult(
        added=len(good), problems=[LineProblemRead(**vars(p)) for p in problems]
    )


def refuse_problems(problems: list[LineProblem]) -> None:
    if problems:
        raise Unprocessable(
            "Some lines cannot be ordered; nothing was changed.",
            errors=[
                FieldError(field=f"lines.{p.field}", message=f"{p.sku}: {p.reason}", row=p.row)
                for p in problems
            ],
        )


@router.get("/carts", summary="My carts for the company I act for")
async def list_carts(
    session: SessionDep,
    principal: allow(*SHOPPERS),
    company_id: uuid.UUID | None = None,
) -> list[CartSummary]:
    stmt = select(Cart).where(Cart.owner == str(principal.subject)).order_by(Cart.name)
    if not principal.is_staff or company_id:
        stmt = stmt.where(Cart.company_id == acting_company(principal, company_id))
    carts = list(await session.scalars(in_scope(stmt, Cart.company_id, principal)))
    counts = await store.line_counts(session, [c.id for c in carts])
    return [
        CartSummary(id=c.id, name=c.name, company_id=c.company_id, lines=counts.get(c.id, 0))
        for c in carts
    ]


@router.post("/carts", status_code=201, summary="A new named cart (one per project, say)")
async def create_cart(
    body: CartCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: allow(*SHOPPERS),
) -> CartSummary:
    company_id = await acting_client(session, principal, body.company_id)
    await CLIENTS.ensure_known(
        session, principal, request.app.state.upstreams, {company_id: "company_id"}
    )
    cart = Cart(company_id=company_id, owner=str(principal.subject), name=body.name)
    session.add(cart)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"You already have a cart named {body.name!r}.") from exc
    response.headers["Location"] = f"/carts/{cart.id}"
    return CartSummary(id=cart.id, name=cart.name, company_id=cart.company_id, lines=0)


@router.get(
    "/carts/{cart_id}",
    summary="The cart priced for the client: list price, client price, savings, next tier",
)
async def get_cart(
    cart_id: uuid.UUID, request: Request, session: SessionDep, principal: allow(*SHOPPERS)
) -> CartRead:
    cart = await own_cart(session, principal, cart_id)
    rows = await store.cart_lines(session, cart.id)
    await release(session)
    return await priced_cart(request, cart, rows, principal)


@router.delete("/carts/{cart_id}", status_code=204, summary="Drop a cart and its lines")
async def delete_cart(
    cart_id: uuid.UUID, session: SessionDep, principal: allow(*SHOPPERS)
) -> Response:
    await session.delete(await own_cart(session, principal, cart_id))
    return Response(status_code=204)


@router.put(
    "/carts/{cart_id}/lines",
    summary="Set (or add to) line quantities; every line must be orderable or nothing changes",
)
async def put_lines(
    cart_id: uuid.UUID,
    body: LinesIn,
    request: Request,
    session: SessionDep,
    principal: allow(*SHOPPERS),
) -> CartSummary:
    cart = await own_cart(session, principal, cart_id)
    wanted = [WantedLine(i, x.sku, str(x.quantity), x.unit) for i, x in enumerate(body.lines, 1)]
    rules = await ordering_rules(session, [x.sku for x in body.lines])
    wanted, unit_problems = await in_base_units(request, principal, wanted, rules)
    good, problems = check_lines(wanted, rules)
    refuse_problems(sorted(unit_problems + problems, key=lambda p: p.row))
    await store.put_lines(session, cart.id, good, add=body.add)
    counts = await store.line_counts(session, [cart.id])
    return CartSummary(
        id=cart.id, name=cart.name, company_id=cart.company_id, lines=counts.get(cart.id, 0)
    )


@router.delete("/carts/{cart_id}/lines", status_code=204, summary="Remove lines by SKU")
async def remove_lines(
    cart_id: uuid.UUID,
    session: SessionDep,
    principal: allow(*SHOPPERS),
    sku: Annotated[list[Sku], Query(min_length=1, max_length=MAX_LINES)],
) -> Response:
    cart = await own_cart(session, principal, cart_id)
    await store.remove_lines(session, cart.id, sku)
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
)
async def quick_order(
    cart_id: uuid.UUID, request: Request, session: SessionDep, principal: allow(*SHOPPERS)
) -> QuickOrderResult:
    cart = await own_cart(session, principal, cart_id)
    wanted = await read_wanted_lines(request)
    return await add_wanted(session, cart.id, wanted, request=request, principal=principal)


async def read_wanted_lines(request: Request) -> list[WantedLine]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type == "multipart/form-data":
        form = await request.form()
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise Unprocessable("Send the file in the `file` field.")
        data = await file.read(MAX_QUICK_ORDER_BYTES + 1)
        content_type = "text/csv"
    else:
        data = await request.body()
    if len(data) > MAX_QUICK_ORDER_BYTES:
        raise Unprocessable(f"A quick order is at most {MAX_QUICK_ORDER_BYTES} bytes.")
    try:
        return parse_csv(data) if content_type == "text/csv" else parse_pasted(data.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unprocessable(f"The list cannot be read: {exc}") from exc


@router.delete("/carts/{cart_id}/all-lines", status_code=204, summary="Empty the cart")
async def empty_cart(
    cart_id: uuid.UUID, session: SessionDep, principal: allow(*SHOPPERS)
) -> Response:
    cart = await own_cart(session, principal, cart_id)
    await session.execute(delete(CartLine).where(CartLine.cart_id == cart.id))
    return Response(status_code=204)
