"""Quotes (RFQ): a buyer asks for a quote on a cart, a sales manager offers prices within the
commercial policy's limits and a validity date, the buyer opens it (recorded), asks for changes
or accepts it, and the accepted quote becomes an order at the quoted prices through the same
checkout saga as a cart (credit, approval rules, stock).

Each step but the accept is one transaction, the request's (the kernel's session commits it);
the accept runs the checkout saga, which commits around its calls to catalog."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.clients.pricing import PricedCart, PricedLine, price_cart
from services.orders.domain import quotes as rules
from services.orders.domain.lines import line_total
from services.orders.store import carts as cart_store
from services.orders.store import checkouts
from services.orders.store import quotes as store
from services.orders.store.catalog import preferred_warehouse
from services.orders.store.quote_models import Quote, QuoteLine, QuoteStep
from services.orders.usecases.access import (
    CLIENT_PEOPLE,
    listed_company,
    narrowing,
    own_cart,
    reachable,
)
from services.orders.usecases.checkout import (
    Placing,
    earlier_order,
    place,
    require_key,
)
from services.orders.usecases.context import Collaborators
from services.orders.usecases.orders import OrderView
from shared.auth import Principal
from shared.clock import today, utcnow
from shared.contracts.orders import (
    QuoteChangesRequestedV1,
    QuoteDeclinedV1,
    QuoteOfferedV1,
    QuoteOpenedV1,
    QuoteRequestedV1,
)
from shared.fields import refuse_oversized
from shared.pagination import PageParams, paginate
from shared.problems import Conflict, FieldError, Unprocessable


@dataclass(frozen=True)
class QuoteView:
    quote: Quote
    lines: list[QuoteLine]
    steps: list[QuoteStep]


async def view_quote(session: AsyncSession, quote: Quote) -> QuoteView:
    return QuoteView(
        quote, await store.lines_of(session, quote.id), await store.steps_of(session, quote.id)
    )


def effective_status(quote: Quote) -> str:
    """An offer past its validity date shows as expired."""
    return rules.effective_status(quote.status, quote.valid_until, today())


async def visible_quote(
    session: AsyncSession, principal: Principal, quote_id: uuid.UUID, *, lock: bool = False
) -> Quote:
    return await reachable(session, principal, Quote, quote_id, "No such quote.", lock=lock)


def _is_client(principal: Principal) -> bool:
    """Only the client's own people open an offer; staff and services reading it do not."""
    return not principal.is_staff and bool(principal.roles & set(CLIENT_PEOPLE))


def _may(quote: Quote, action: str) -> None:
    if quote.status not in rules.ALLOWED_FROM[action]:
        raise Conflict(
            f"A quote that is {quote.status} cannot be {action.replace('_', ' ')}ed.",
            slug="quote-state",
        )


async def request_quote(
    session: AsyncSession,
    collaborators: Collaborators,
    principal: Principal,
    cart_id: uuid.UUID,
    message: str | None,
) -> QuoteView:
    """The cart's lines with the client's current prices become a quote `requested`."""
    cart = await own_cart(session, principal, cart_id)
    rows = await cart_store.cart_lines(session, cart.id)
    if not rows:
        raise Conflict("The cart is empty.", slug="empty-cart")
    priced = await price_cart(
        collaborators.upstreams, principal, cart.company_id, [(sku, q) for sku, q, _, _ in rows]
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
    store.step(session, quote, "requested", quote.requested_by, message)
    lines = await store.lines_of(session, quote.id)
    store.record_quote_event(
        session,
        QuoteRequestedV1,
        quote,
        quote.requested_by,
        message=message,
        currency=quote.currency,
        lines=store.event_lines(lines),
    )
    await session.flush()
    return await view_quote(session, quote)


async def open_quote(session: AsyncSession, principal: Principal, quote_id: uuid.UUID) -> QuoteView:
    """The quote; the client's first look at an offer is recorded (opened_at, quote.opened)."""
    quote = await visible_quote(session, principal, quote_id)
    if quote.status == "offered" and quote.opened_at is None and _is_client(principal):
        opened = await store.mark_opened(session, quote.id)
        if opened is not None:  # a look at the same moment recorded it already
            quote.opened_at = opened
            actor = str(principal.subject)
            store.step(session, quote, "opened", actor, None)
            store.record_quote_event(session, QuoteOpenedV1, quote, actor, revision=quote.revision)
            await session.flush()
    return await view_quote(session, quote)


async def offer_quote(
    session: AsyncSession,
    collaborators: Collaborators,
    principal: Principal,
    quote_id: uuid.UUID,
    valid_until: date,
    message: str | None,
    prices: list[tuple[int, int]],
) -> QuoteView:
    """Prices (`prices`: line number and price; the rest keep the earlier offer or the client's
    price) no lower than the floor nor the policy's allowance below the client's own price,
    and a validity date; every wrong line is named."""
    settings = collaborators.settings
    quote = await visible_quote(session, principal, quote_id, lock=True)
    _may(quote, "offer")
    lines = await store.lines_of(session, quote.id)
    errors = [
        FieldError(field="lines.line_no", message=f"the quote has no line {line_no}", row=i)
        for i, (line_no, _) in enumerate(prices, 1)
        if not 1 <= line_no <= len(lines)
    ]
    problem = rules.validity_problem(valid_until, today(), settings.quote_max_validity_days)
    if problem:
        errors.append(FieldError(field="valid_until", message=problem))
    if errors:
        raise Unprocessable("The offer cannot be made.", errors=errors)
    offered = dict(prices)
    # Floors and the client's price as of today: the limits hold when the offer is made.
    now = await price_cart(
        collaborators.upstreams,
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
    total = sum(
        line_total(p.offered_minor, x.quantity) for p, x in zip(proposed, lines, strict=True)
    )
    refuse_oversized(total, "lines.price_minor")
    for line, p in zip(lines, proposed, strict=True):
        line.quoted_price_minor = p.offered_minor
    actor = str(principal.subject)
    quote.status, quote.revision = "offered", quote.revision + 1
    quote.valid_until, quote.offered_by, quote.offered_at = valid_until, actor, utcnow()
    quote.opened_at, quote.updated_at = None, utcnow()
    store.step(session, quote, "offered", actor, message)
    store.record_quote_event(
        session,
        QuoteOfferedV1,
        quote,
        actor,
        message=message,
        currency=quote.currency,
        total_minor=total,
        valid_until=valid_until,
        revision=quote.revision,
        lines=store.event_lines(lines),
    )
    await session.flush()
    return await view_quote(session, quote)


async def reply(
    session: AsyncSession,
    principal: Principal,
    quote_id: uuid.UUID,
    action: str,
    status: str,
    message: str,
) -> QuoteView:
    """A reply that only moves the quote and tells consumers: changes asked, or declined."""
    quote = await visible_quote(session, principal, quote_id, lock=True)
    _may(quote, action)
    actor = str(principal.subject)
    quote.status, quote.updated_at = status, utcnow()
    store.step(session, quote, status, actor, message)
    if status == "changes_requested":
        store.record_quote_event(
            session, QuoteChangesRequestedV1, quote, actor, message=message, revision=quote.revision
        )
    else:
        store.record_quote_event(session, QuoteDeclinedV1, quote, actor, message=message)
    await session.flush()
    return await view_quote(session, quote)


async def accept_quote(
    collaborators: Collaborators, principal: Principal, quote_id: uuid.UUID, key: str | None
) -> tuple[OrderView, bool]:
    """The offer becomes an order at the quoted prices through the checkout saga; True when
    this call created it (False: this key's earlier order)."""
    key = require_key(key)
    async with collaborators.sessionmaker.begin() as session:
        quote = await visible_quote(session, principal, quote_id)
        checkout, new = await checkouts.open_checkout(session, quote.company_id, key)
        if new:
            if effective_status(quote) == "expired":
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
        return await earlier_order(collaborators, checkout, principal), False
    rule = f"quote:{quote.number}"
    placing = Placing(
        company_id=quote.company_id,
        quantities=[(x.sku, x.quantity) for x in lines],
        names={x.sku: x.name for x in lines},
        comment=f"quote {quote.number}",
        quote_id=quote.id,
        preferred_warehouse=warehouse,
        priced=PricedCart(
            currency=quote.currency,
            priced_on=quote.offered_at.date() if quote.offered_at else today(),
            lines=[
                PricedLine(
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
    return await place(collaborators, principal, checkout, placing), True


async def list_quotes(
    session: AsyncSession,
    principal: Principal,
    company_id: uuid.UUID | None,
    status: str | None,
    page: PageParams,
) -> tuple[list[Quote], str | None]:
    """The caller's clients' quotes (or the one client it names), newest first."""
    stmt = store.listing(narrowing(principal), listed_company(principal, company_id), status)
    return await paginate(session, stmt, [Quote.created_at, Quote.id], page, newest_first=True)
