"""Quotes (RFQ): a buyer asks for a quote on a cart, a sales manager offers prices within the
commercial policy's limits and a validity date, the buyer opens it (recorded), asks for changes
or accepts it, and the accepted quote becomes an order at the quoted prices through the same
checkout saga as a cart (credit, approval rules, stock)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders import upstream
from services.orders.api.access import (
    CLIENT_PEOPLE,
    SHOPPERS,
    acting_company,
    ensure_client,
    in_scope,
    own_cart,
)
from services.orders.api.checkout import (
    Placing,
    PreconditionRequired,
    earlier_outcome,
    open_checkout,
    place,
)
from services.orders.api.schemas import OrderRead
from services.orders.domain import quotes as rules
from services.orders.domain.lines import MAX_LINES, line_total
from services.orders.store import carts as cart_store
from services.orders.store import quotes as store
from services.orders.store.catalog import preferred_warehouse
from services.orders.store.models import Quote, QuoteStep
from shared.auth import Principal, Role, allow
from shared.clock import today, utcnow
from shared.contracts.orders import (
    QuoteChangesRequestedV1,
    QuoteDeclinedV1,
    QuoteOfferedV1,
    QuoteOpenedV1,
    QuoteRequestedV1,
)
from shared.db import SessionDep
from shared.events.outbox import record_event
from shared.fields import BusinessDate, MinorUnits, free_text, refuse_oversized
from shared.pagination import Page, PageParams, page_params, paginate
from shared.problems import Conflict, FieldError, NotFound, Unprocessable

router = APIRouter(tags=["quotes"])
SALES = (Role.SALES_MANAGER, Role.HEAD_OF_SALES, Role.ADMIN)
READERS = (*SHOPPERS, Role.SYSTEM)


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
    status: str = Field(
        description="requested, offered, changes_requested, accepted, declined, or expired "
        "(an offer past its validity date)"
    )
    currency: str
    revision: int = Field(description="Offers made so far")
    valid_until: date | None
    offered_at: datetime | None
    opened_at: datetime | None = Field(description="When the client first saw this revision")
    order_id: uuid.UUID | None
    created_at: datetime


class QuoteRead(QuoteSummary):
    total_minor: int | None = Field(description="The offer's total; null until offered")
    lines: list[QuoteLineRead]
    steps: list[QuoteStepRead]


def _summary(quote: Quote) -> QuoteSummary:
    found = QuoteSummary.model_validate(quote, from_attributes=True)
    found.status = rules.effective_status(quote.status, quote.valid_until, today())
    return found


async def _read(session: AsyncSession, quote: Quote) -> QuoteRead:
    lines = await store.lines_of(session, quote.id)
    steps = await session.scalars(
        select(QuoteStep).where(QuoteStep.quote_id == quote.id).order_by(QuoteStep.id)
    )
    totals = [
        line_total(x.quoted_price_minor, x.quantity) if x.quoted_price_minor is not None else None
        for x in lines
    ]
    return QuoteRead(
        **_summary(quote).model_dump(),
        total_minor=sum(t or 0 for t in totals) if quote.revision else None,
        lines=[
            QuoteLineRead(
                line_no=x.line_no,
                sku=x.sku,
                name=x.name,
                quantity=x.quantity,
                list_price_minor=x.list_price_minor,
                client_price_minor=x.client_price_minor,
                quoted_price_minor=x.quoted_price_minor,
                line_total_minor=t,
            )
            for x, t in zip(lines, totals, strict=True)
        ],
        steps=[QuoteStepRead.model_validate(s, from_attributes=True) for s in steps],
    )


async def _visible(
    session: AsyncSession, principal: Principal, quote_id: uuid.UUID, *, lock: bool = False
) -> Quote:
    quote = await session.get(Quote, quote_id, with_for_update=lock)
    if quote is None:
        raise NotFound("No such quote.")
    await ensure_client(session, principal, quote.company_id)
    return quote


def _is_client(principal: Principal) -> bool:
    """Only the client's own people open an offer; staff and services reading it do not."""
    return not principal.is_staff and bool(principal.roles & set(CLIENT_PEOPLE))


def _may(quote: Quote, action: str) -> None:
    if quote.status not in rules.ALLOWED_FROM[action]:
        raise Conflict(
            f"A quote that is {quote.status} cannot be {action.replace('_', ' ')}ed.",
            slug="quote-state",
        )


class QuoteAsk(BaseModel):
    message: free_text(4000) | None = Field(None, description="What the buyer asks for")


@router.post(
    "/carts/{cart_id}/quote",
    status_code=201,
    summary="Ask a sales manager for a quote on the cart as it is now",
    description="The cart's lines are copied with the client's current prices (a line without "
    "a price may be asked for too); the cart itself is left as it is.",
)
async def request_quote(
    cart_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: allow(*SHOPPERS),
    body: QuoteAsk | None = None,
) -> QuoteRead:
    cart = await own_cart(session, principal, cart_id)
    rows = await cart_store.cart_lines(session, cart.id)
    if not rows:
        raise Conflict("The cart is empty.", slug="empty-cart")
    priced = await upstream.price_cart(
        request.app, principal, cart.company_id, [(sku, q) for sku, q, _, _ in rows]
    )
    quote = Quote(
        id=uuid.uuid4(),
        number=await store.next_number(session),
        company_id=cart.company_id,
        requested_by=str(principal.subject),
        status="requested",
        currency=priced.currency,
        revision=0,
    )
    session.add(quote)
    await session.flush()
    await store.add_lines(
        session,
        quote.id,
        [
            {
                "sku": sku,
                "name": name,
                "quantity": quantity,
                "list_price_minor": p.list_price_minor,
                "client_price_minor": p.unit_price_minor,
                "client_price_rule": p.rule,
                "quoted_price_minor": None,
            }
            for (sku, quantity, name, _), p in zip(rows, priced.lines, strict=True)
        ],
    )
    message = body.message if body else None
    store.step(session, quote, "requested", quote.requested_by, message)
    lines = await store.lines_of(session, quote.id)
    record_event(
        session,
        QuoteRequestedV1(
            quote_id=quote.id,
            company_id=quote.company_id,
            number=quote.number,
            actor=quote.requested_by,
            message=message,
            currency=quote.currency,
            lines=store.event_lines(lines),
        ),
    )
    await session.commit()
    return await _read(session, quote)


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
    stmt = in_scope(select(Quote), Quote.company_id, principal)
    if not principal.is_staff or company_id:
        stmt = stmt.where(Quote.company_id == acting_company(principal, company_id))
    if status:
        stmt = stmt.where(Quote.status == status)
    rows, cursor = await paginate(
        session, stmt, [Quote.created_at, Quote.id], page, newest_first=True
    )
    return Page(items=[_summary(q) for q in rows], next_cursor=cursor)


@router.get(
    "/quotes/{quote_id}",
    summary="One quote with its lines and conversation",
    description="The client's first look at an offer is recorded (opened_at, quote.opened).",
)
async def get_quote(
    quote_id: uuid.UUID, session: SessionDep, principal: allow(*READERS)
) -> QuoteRead:
    quote = await _visible(session, principal, quote_id)
    if quote.status == "offered" and quote.opened_at is None and _is_client(principal):
        opened = await session.scalar(
            update(Quote)
            .where(Quote.id == quote.id, Quote.opened_at.is_(None))
            .values(opened_at=utcnow())
            .returning(Quote.opened_at)
        )
        if opened is not None:  # a look at the same moment recorded it already
            actor = str(principal.subject)
            store.step(session, quote, "opened", actor, None)
            record_event(
                session,
                QuoteOpenedV1(
                    quote_id=quote.id,
                    company_id=quote.company_id,
                    number=quote.number,
                    actor=actor,
                    revision=quote.revision,
                ),
            )
            await session.commit()
            await session.refresh(quote)
    return await _read(session, quote)


class OfferLine(BaseModel):
    line_no: int = Field(ge=1, le=MAX_LINES)
    price_minor: MinorUnits = Field(description="Unit price offered, in minor units")


class Offer(BaseModel):
    valid_until: BusinessDate = Field(description="Last day the offer can be accepted (UTC)")
    message: free_text(4000) | None = None
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
    request: Request,
    session: SessionDep,
    principal: allow(*SALES),
) -> QuoteRead:
    settings = request.app.state.settings
    quote = await _visible(session, principal, quote_id, lock=True)
    _may(quote, "offer")
    lines = await store.lines_of(session, quote.id)
    errors = [
        FieldError(field="lines.line_no", message=f"the quote has no line {x.line_no}", row=i)
        for i, x in enumerate(body.lines, 1)
        if not 1 <= x.line_no <= len(lines)
    ]
    problem = rules.validity_problem(body.valid_until, today(), settings.quote_max_validity_days)
    if problem:
        errors.append(FieldError(field="valid_until", message=problem))
    if errors:
        raise Unprocessable("The offer cannot be made.", errors=errors)
    offered = {x.line_no: x.price_minor for x in body.lines}
    # Floors and the client's price as of today: the limits hold when the offer is made.
    now = await upstream.price_cart(
        request.app,
        principal,
        quote.company_id,
        [(x.sku, x.quantity) for x in lines],
        currency=quote.currency,
    )
    proposed = []
    for line, current in zip(lines, now.lines, strict=True):
        price = offered.get(line.line_no, line.quoted_price_minor or current.unit_price_minor)
        if price is None:
            errors.append(
                FieldError(
                    field="lines.price_minor",
                    message=f"{line.sku} has no price for this client: offer one",
                    row=line.line_no,
                )
            )
            continue
        proposed.append(
            rules.QuotedLine(
                line.line_no, line.sku, current.unit_price_minor, current.floor_minor, price
            )
        )
    for p in rules.offer_problems(proposed, settings.quote_max_discount_percent):
        errors.append(FieldError(field="lines.price_minor", message=p.message, row=p.line_no))
    if errors:
        raise Unprocessable("Some prices cannot be offered.", errors=errors)
    refuse_oversized(
        sum(line_total(p.offered_minor, x.quantity) for p, x in zip(proposed, lines, strict=True)),
        "lines.price_minor",
    )
    for line, p in zip(lines, proposed, strict=True):
        line.quoted_price_minor = p.offered_minor
    actor = str(principal.subject)
    quote.status, quote.revision = "offered", quote.revision + 1
    quote.valid_until, quote.offered_by, quote.offered_at = body.valid_until, actor, utcnow()
    quote.opened_at, quote.updated_at = None, utcnow()
    store.step(session, quote, "offered", actor, body.message)
    record_event(
        session,
        QuoteOfferedV1(
            quote_id=quote.id,
            company_id=quote.company_id,
            number=quote.number,
            actor=actor,
            message=body.message,
            currency=quote.currency,
            total_minor=sum(
                line_total(p.offered_minor, x.quantity)
                for p, x in zip(proposed, lines, strict=True)
            ),
            valid_until=body.valid_until,
            revision=quote.revision,
            lines=store.event_lines(lines),
        ),
    )
    await session.commit()
    return await _read(session, quote)


class QuoteReply(BaseModel):
    message: free_text(4000, min_length=1)


async def _reply(
    session: AsyncSession,
    principal: Principal,
    quote_id: uuid.UUID,
    action: str,
    status: str,
    message: str,
) -> QuoteRead:
    """A reply that only moves the quote and tells consumers: changes asked, or declined."""
    quote = await _visible(session, principal, quote_id, lock=True)
    _may(quote, action)
    actor = str(principal.subject)
    quote.status, quote.updated_at = status, utcnow()
    store.step(session, quote, status, actor, message)
    common = {
        "quote_id": quote.id,
        "company_id": quote.company_id,
        "number": quote.number,
        "actor": actor,
        "message": message,
    }
    event = (
        QuoteChangesRequestedV1(**common, revision=quote.revision)
        if status == "changes_requested"
        else QuoteDeclinedV1(**common)
    )
    record_event(session, event)
    await session.commit()
    return await _read(session, quote)


@router.post(
    "/quotes/{quote_id}/request-changes",
    summary="Ask the sales manager to change the offer (also after it expired)",
)
async def request_changes(
    quote_id: uuid.UUID, body: QuoteReply, session: SessionDep, principal: allow(*CLIENT_PEOPLE)
) -> QuoteRead:
    return await _reply(
        session, principal, quote_id, "request_changes", "changes_requested", body.message
    )


@router.post("/quotes/{quote_id}/decline", summary="Decline to quote, saying why (sales manager)")
async def decline_quote(
    quote_id: uuid.UUID, body: QuoteReply, session: SessionDep, principal: allow(*SALES)
) -> QuoteRead:
    return await _reply(session, principal, quote_id, "decline", "declined", body.message)


@router.post(
    "/quotes/{quote_id}/accept",
    status_code=201,
    summary="Accept the offer: it becomes an order at the quoted prices",
    description="Runs the checkout saga (credit, approval rules, stock) with the quoted prices "
    "as the order's price snapshot. The Idempotency-Key makes a retry return the same order.",
    responses={
        200: {"description": "This Idempotency-Key accepted the quote before: the order"},
        409: {"description": "Expired, not offered, or out of stock (lines named)"},
        428: {"description": "Idempotency-Key header missing"},
    },
)
async def accept_quote(
    quote_id: uuid.UUID,
    request: Request,
    response: Response,
    principal: allow(*SHOPPERS),
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> OrderRead:
    if not idempotency_key:
        raise PreconditionRequired("Send an Idempotency-Key so a retry never orders twice.")
    app = request.app
    async with app.state.sessionmaker.begin() as session:
        quote = await _visible(session, principal, quote_id)
        checkout_row, new = await open_checkout(session, quote.company_id, idempotency_key)
        if new:
            if rules.effective_status(quote.status, quote.valid_until, today()) == "expired":
                raise Conflict(
                    f"The offer was valid until {quote.valid_until}; ask for changes to get "
                    "a new one.",
                    slug="quote-expired",
                )
            _may(quote, "accept")
            lines = await store.lines_of(session, quote.id)
            warehouse = await preferred_warehouse(session, quote.company_id)
        session.expunge_all()
    if not new:
        return await earlier_outcome(app, checkout_row, principal, response)
    rule = f"quote:{quote.number}"
    placing = Placing(
        company_id=quote.company_id,
        quantities=[(x.sku, x.quantity) for x in lines],
        names={x.sku: x.name for x in lines},
        comment=f"quote {quote.number}",
        quote_id=quote.id,
        preferred_warehouse=warehouse,
        priced=upstream.PricedCart(
            currency=quote.currency,
            priced_on=quote.offered_at.date() if quote.offered_at else today(),
            lines=[
                upstream.PricedLine(
                    sku=x.sku,
                    quantity=x.quantity,
                    unit_price_minor=x.quoted_price_minor,
                    list_price_minor=x.list_price_minor,
                    rule=rule,
                    next_tier=None,
                )
                for x in lines
            ],
        ),
    )
    return (await place(app, principal, checkout_row, placing)).read()
