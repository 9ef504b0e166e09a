"""Quotes (RFQ): a buyer asks for a quote on a cart, a sales manager offers prices, the buyer
opens, asks for changes or accepts (`usecases/quotes.py`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from services.orders.api.deps import CollaboratorsDep
from services.orders.api.schemas import KEY_MISSING, IdempotencyKey, OrderRead, order_read
from services.orders.domain.lines import MAX_LINES, line_total
from services.orders.store.quote_models import Quote
from services.orders.usecases import quotes as usecase
from services.orders.usecases.access import CLIENT_PEOPLE, READERS, SHOPPERS
from shared.apiconventions import examples
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.fields import BusinessDate, MinorUnits, multiline
from shared.pagination import Page, PageParams, page_params
from shared.reads import read_of

router = APIRouter(tags=["quotes"])
SALES = (Role.SALES_MANAGER, Role.HEAD_OF_SALES, Role.ADMIN)
NOT_NOW: dict[int | str, dict[str, Any]] = {
    409: {"description": "The quote is not in a state that allows it"}
}


class QuoteLineRead(BaseModel):
    line_no: int
    sku: str
    name: str | None
    quantity: Decimal
    list_price_minor: int | None
    client_price_minor: int | None = Field(description="The client's own price when asked")
    quoted_price_minor: int | None = Field(description="The offered price; null until offered")
    line_total_minor: int | None = Field(description="Quoted price x quantity")


class QuoteStepRead(BaseModel):
    action: str
    revision: int
    actor: str
    at: datetime
    message: str | None


class QuoteSummary(BaseModel):
    id: uuid.UUID
    number: str
    company_id: uuid.UUID
    requested_by: str
    status: Literal[
        "requested", "offered", "changes_requested", "accepted", "declined", "expired"
    ] = Field(description="`expired`: an offer past its validity date")
    currency: str
    revision: int = Field(description="Offers made so far")
    valid_until: date | None
    offered_at: datetime | None
    opened_at: datetime | None = Field(description="When the client first saw this revision")
    order_id: uuid.UUID | None
    created_at: datetime


# Alpha's buyer asks on the Tower B cart; its sales manager offers; the buyer opens the offer.
REQUESTED = {
    "id": "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8",
    "number": "Q-00000017",
    "company_id": "7b3f6a52-9a4e-4f1e-8a31-0c2d9b6e5f10",
    "requested_by": "5d2e8f41-0c6b-4a7e-b3d9-1f2a3b4c5d6e",
    "status": "requested",
    "currency": "EUR",
    "revision": 0,
    "valid_until": None,
    "offered_at": None,
    "opened_at": None,
    "order_id": None,
    "created_at": "2026-12-06T09:40:00Z",
    "total_minor": None,
    "lines": [
        {
            "line_no": 1,
            "sku": "KN-100",
            "name": "Knauf board 12.5 mm",
            "quantity": "20",
            "list_price_minor": 400,
            "client_price_minor": 400,
            "quoted_price_minor": None,
            "line_total_minor": None,
        },
        {
            "line_no": 2,
            "sku": "CE-200",
            "name": "Ceresit CE 200 grout",
            "quantity": "10",
            "list_price_minor": 1250,
            "client_price_minor": 1188,
            "quoted_price_minor": None,
            "line_total_minor": None,
        },
    ],
    "steps": [
        {
            "action": "requested",
            "revision": 0,
            "actor": "5d2e8f41-0c6b-4a7e-b3d9-1f2a3b4c5d6e",
            "at": "2026-12-06T09:40:00Z",
            "message": "Tower B, second phase: can you do better on the grout?",
        }
    ],
}


@examples(
    REQUESTED,
    {
        **REQUESTED,
        "status": "offered",
        "revision": 1,
        "valid_until": "2026-12-20",
        "offered_at": "2026-12-07T09:00:00Z",
        "opened_at": "2026-12-07T11:20:00Z",
        "total_minor": 18600,
        "lines": [
            {**REQUESTED["lines"][0], "quoted_price_minor": 380, "line_total_minor": 7600},
            {**REQUESTED["lines"][1], "quoted_price_minor": 1100, "line_total_minor": 11000},
        ],
        "steps": [
            *REQUESTED["steps"],
            {
                "action": "offered",
                "revision": 1,
                "actor": "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
                "at": "2026-12-07T09:00:00Z",
                "message": "Grout at the 50 kg price; boards 5 % off the contract",
            },
            {
                "action": "opened",
                "revision": 1,
                "actor": "5d2e8f41-0c6b-4a7e-b3d9-1f2a3b4c5d6e",
                "at": "2026-12-07T11:20:00Z",
                "message": None,
            },
        ],
    },
)
class QuoteRead(QuoteSummary):
    total_minor: int | None = Field(description="The offer's total; null until offered")
    lines: list[QuoteLineRead]
    steps: list[QuoteStepRead]


def _summary(quote: Quote) -> QuoteSummary:
    found = QuoteSummary.model_validate(quote, from_attributes=True)
    found.status = usecase.effective_status(quote)
    return found


def _read(view: usecase.QuoteView) -> QuoteRead:
    quote, lines = view.quote, view.lines
    totals = [
        line_total(x.quoted_price_minor, x.quantity) if x.quoted_price_minor is not None else None
        for x in lines
    ]
    return QuoteRead(
        **_summary(quote).model_dump(),
        total_minor=sum(t or 0 for t in totals) if quote.revision else None,
        lines=[
            read_of(QuoteLineRead, x, line_total_minor=t)
            for x, t in zip(lines, totals, strict=True)
        ],
        steps=[QuoteStepRead.model_validate(s, from_attributes=True) for s in view.steps],
    )


@examples({"message": "Tower B, second phase: can you do better on the grout?"})
class QuoteAsk(BaseModel):
    message: multiline(4000) | None = Field(None, description="What the buyer asks for")


@router.post(
    "/carts/{cart_id}/quote",
    status_code=201,
    summary="Ask a sales manager for a quote on the cart as it is now",
    description="The cart's lines are copied with the client's current prices (a line without "
    "a price may be asked for too); the cart itself is left as it is.",
    responses={409: {"description": "The cart is empty"}},
)
async def request_quote(
    cart_id: uuid.UUID,
    session: SessionDep,
    collaborators: CollaboratorsDep,
    principal: allow(*SHOPPERS),
    body: QuoteAsk | None = None,
) -> QuoteRead:
    message = body.message if body else None
    return _read(await usecase.request_quote(session, collaborators, principal, cart_id, message))


@router.get("/quotes", summary="Quotes of the company (staff: of every client), newest first")
async def list_quotes(
    session: SessionDep,
    principal: allow(*READERS),
    page: Annotated[PageParams, Depends(page_params)],
    company_id: uuid.UUID | None = None,
    status: Annotated[
        str | None,
        Query(pattern="^(requested|offered|changes_requested|accepted|declined)$"),
    ] = None,
) -> Page[QuoteSummary]:
    rows, cursor = await usecase.list_quotes(session, principal, company_id, status, page)
    return Page(items=[_summary(q) for q in rows], next_cursor=cursor)


@router.get(
    "/quotes/{quote_id}",
    summary="One quote with its lines and conversation",
    description="The client's first look at an offer is recorded (opened_at, quote.opened).",
)
async def get_quote(
    quote_id: uuid.UUID, session: SessionDep, principal: allow(*READERS)
) -> QuoteRead:
    return _read(await usecase.open_quote(session, principal, quote_id))


class OfferLine(BaseModel):
    line_no: int = Field(ge=1, le=MAX_LINES)
    price_minor: MinorUnits = Field(description="Unit price offered, in minor units")


@examples(
    {
        "valid_until": "2026-12-20",
        "message": "Grout at the 50 kg price; boards 5 % off the contract",
        "lines": [{"line_no": 1, "price_minor": 380}, {"line_no": 2, "price_minor": 1100}],
    }
)
class Offer(BaseModel):
    valid_until: BusinessDate = Field(description="Last day the offer can be accepted (UTC)")
    message: multiline(4000) | None = None
    lines: list[OfferLine] = Field(
        default_factory=list,
        description="Prices per line; a line left out keeps its earlier offer, or else the "
        "client's own price",
    )


@router.put(
    "/quotes/{quote_id}/offer",
    summary="Offer prices and a validity date (sales manager)",
    description="Each price must be at least the SKU's floor and at most the policy's "
    "allowance below the client's own price; every wrong line is named.",
    responses={409: {"description": "Accepted or declined already"}, 422: {"description": ""}},
)
async def offer_quote(
    quote_id: uuid.UUID,
    body: Offer,
    session: SessionDep,
    collaborators: CollaboratorsDep,
    principal: allow(*SALES),
) -> QuoteRead:
    prices = [(x.line_no, x.price_minor) for x in body.lines]
    return _read(
        await usecase.offer_quote(
            session, collaborators, principal, quote_id, body.valid_until, body.message, prices
        )
    )


class QuoteReply(BaseModel):
    message: multiline(4000, min_length=1)


@router.post(
    "/quotes/{quote_id}/request-changes",
    summary="Ask the sales manager to change the offer (also after it expired)",
    responses=NOT_NOW,
)
async def request_changes(
    quote_id: uuid.UUID, body: QuoteReply, session: SessionDep, principal: allow(*CLIENT_PEOPLE)
) -> QuoteRead:
    return _read(
        await usecase.reply(
            session, principal, quote_id, "request_changes", "changes_requested", body.message
        )
    )


@router.post(
    "/quotes/{quote_id}/decline",
    summary="Decline to quote, saying why (sales manager)",
    responses=NOT_NOW,
)
async def decline_quote(
    quote_id: uuid.UUID, body: QuoteReply, session: SessionDep, principal: allow(*SALES)
) -> QuoteRead:
    return _read(
        await usecase.reply(session, principal, quote_id, "decline", "declined", body.message)
    )


@router.post(
    "/quotes/{quote_id}/accept",
    status_code=201,
    summary="Accept the offer: it becomes an order at the quoted prices",
    description="Runs the checkout saga (credit, approval rules, stock) with the quoted prices "
    "as the order's price snapshot. The Idempotency-Key makes a retry return the same order.",
    responses={
        200: {"description": "This Idempotency-Key accepted the quote before: the order"},
        409: {"description": "Expired, not offered, or out of stock (lines named)"},
        **KEY_MISSING,
    },
)
async def accept_quote(
    quote_id: uuid.UUID,
    response: Response,
    collaborators: CollaboratorsDep,
    principal: allow(*SHOPPERS),
    idempotency_key: IdempotencyKey = None,
) -> OrderRead:
    view, created = await usecase.accept_quote(collaborators, principal, quote_id, idempotency_key)
    if not created:
        response.status_code = 200
    return order_read(view)
