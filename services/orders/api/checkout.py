"""Checkout, a saga over three services: price the cart (pricing), check credit (accounts),
hold the stock (catalog), then create the order here, or give the stock back.

Three transactions here: the checkout row with what the order is made of; the order, once
catalog confirmed its stock; a failure. An order is placed only on stock catalog confirmed:
stock given back meanwhile (it expired) is held again, or the checkout is refused naming the
lines no longer there. Whatever fails after the reservation was asked for, even with no
answer (catalog may have reserved all the same), gives back what catalog holds under the
checkout's id (the reservation's reference) before the checkout is marked failed; when catalog
cannot take it back, the checkout stays `reserved` (its key not free yet) until the recovery
(`api/recovery.py`) gives it back. The Idempotency-Key names the checkout: a retried request
finds it and never creates a second order; a refused checkout placed nothing, so the same key
checks out again once the buyer fixed the cart.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, FastAPI, Header, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders import upstream
from services.orders.api.access import SHOPPERS, ensure_client, own_cart
from services.orders.api.schemas import OrderRead, order_read, placed_order_json, read_order
from services.orders.domain.approval import Rule, approval_reason
from services.orders.domain.credit import CreditStanding, decide_credit
from services.orders.domain.lines import OrderingRules, WantedLine, check_lines, line_total
from services.orders.domain.stock import sources_by_line
from services.orders.store import carts as cart_store
from services.orders.store import orders as store
from services.orders.store import quotes as quote_store
from services.orders.store.catalog import ordering_rules, preferred_warehouse
from services.orders.store.models import ApprovalRule, Cart, CartLine, Checkout, Order
from shared.auth import Principal, allow
from shared.clock import utcnow
from shared.fields import free_text, line, refuse_oversized
from shared.problems import Conflict, FieldError, ProblemError, Unprocessable

router = APIRouter(tags=["checkout"])
log = logging.getLogger(__name__)


class CheckoutBody(BaseModel):
    comment: free_text(2000) | None = None
    adds_to_order_id: uuid.UUID | None = Field(
        None, description="An earlier order of the company this one adds to (the same need)"
    )
    need: line(100) | None = Field(
        None, description="The need or project the order serves, e.g. Tower B"
    )


async def check_adds_to(
    session: AsyncSession, company_id: uuid.UUID, order_id: uuid.UUID | None
) -> None:
    """An add-on names an order of the same company; another's is as unknown as none."""
    if order_id is None:
        return
    found = await session.scalar(
        select(Order.id).where(Order.id == order_id, Order.company_id == company_id)
    )
    if found is None:
        raise Unprocessable(
            "The order this one adds to is not an order of the company.",
            errors=[FieldError(field="adds_to_order_id", message="no such order of the company")],
        )


class PreconditionRequired(ProblemError):
    status, slug = 428, "idempotency-key-required"


class CreditRefused(ProblemError):
    status, slug = 422, "credit-refused"


class GivenUp(ProblemError):
    """The recovery gave this checkout up while it still ran (past the stale time): its stock
    was given back and its key freed, so it must not create its order after all."""

    status, slug = 409, "checkout-interrupted"


async def _fail(app: FastAPI, checkout_id: uuid.UUID, reason: str, holding: bool = False) -> None:
    """A started checkout ends without an order: `failed`, or `reserved` when catalog may
    still hold stock under its id (giving it back failed), for the recovery to give back. A
    checkout already `reserved` stays so."""
    state = "reserved" if holding else "failed"
    async with app.state.sessionmaker.begin() as session:
        await session.execute(
            update(Checkout)
            .where(Checkout.id == checkout_id, Checkout.state == "started")
            .values(state=state, failure=reason, updated_at=utcnow())
        )


async def _give_back(app: FastAPI, checkout_id: uuid.UUID, failure: Exception) -> None:
    """Give back whatever catalog holds under the checkout's id before the checkout is marked
    failed: its key may start again at once and must not find its own stock taken. When
    catalog cannot take it back, the checkout stays `reserved` and that failure is raised."""
    try:
        await upstream.release_by_reference(app, checkout_id)
    except Exception:
        reason = getattr(failure, "detail", None) or type(failure).__name__
        await _fail(app, checkout_id, reason, holding=True)
        raise


@dataclass(frozen=True)
class Started:
    """What step 1 found: the checkout row and, when this call started it, the cart's lines
    with their ordering rules and the company's approval rules."""

    checkout: Checkout
    cart: Cart
    lines: list[tuple[str, Decimal, str | None]]
    rules: dict[str, OrderingRules]
    approvals: list[Rule]
    preferred_warehouse: str | None = None


async def _start(
    app: FastAPI,
    principal: Principal,
    cart_id: uuid.UUID,
    key: str,
    adds_to_order_id: uuid.UUID | None,
) -> Started:
    """Step 1, one transaction: the checkout row (or the one this key started before) and
    everything the order is made of that orders itself knows."""
    async with app.state.sessionmaker.begin() as session:
        cart = await own_cart(session, principal, cart_id)
        await check_adds_to(session, cart.company_id, adds_to_order_id)
        checkout, new = await open_checkout(session, cart.company_id, key, cart.id)
        lines: list[tuple[str, Decimal, str | None]] = []
        rules: dict[str, OrderingRules] = {}
        approvals: list[Rule] = []
        warehouse = None
        if new:
            lines, rules = await cart_store.lines_to_order(session, cart.id)
            if not lines:  # raised inside: the checkout row rolls back, the key stays free
                raise Conflict("The cart is empty.", slug="empty-cart")
            approvals = await approval_rules(session, cart.company_id)
            warehouse = await preferred_warehouse(session, cart.company_id)
        session.expunge_all()
    return Started(checkout, cart, lines, rules, approvals, warehouse)


async def approval_rules(session: AsyncSession, company_id: uuid.UUID) -> list[Rule]:
    rows = await session.execute(
        select(ApprovalRule.above_minor, ApprovalRule.currency, ApprovalRule.buyer).where(
            ApprovalRule.company_id == company_id
        )
    )
    return [Rule(*row) for row in rows]


async def open_checkout(
    session: AsyncSession, company_id: uuid.UUID, key: str, cart_id: uuid.UUID | None = None
) -> tuple[Checkout, bool]:
    """The checkout this key names, and whether this call (re)started it. A failed checkout
    left no order and gave its stock back, so its key starts afresh, under a new id: catalog
    sees a new reservation reference. One statement, so two calls never both restart it."""
    now = utcnow()
    fresh = {"id": uuid.uuid4(), "state": "started", "cart_id": cart_id, "updated_at": now}
    stmt = insert(Checkout).values(
        **fresh, company_id=company_id, idempotency_key=key, created_at=now
    )
    started = await session.scalar(
        stmt.on_conflict_do_update(
            index_elements=[Checkout.company_id, Checkout.idempotency_key],
            set_={**fresh, "failure": None, "reservation_id": None},
            where=(Checkout.state == "failed") & Checkout.order_id.is_(None),
        ).returning(Checkout)
    )
    if started is not None:
        return started, True
    checkout = await session.scalar(
        select(Checkout).where(Checkout.company_id == company_id, Checkout.idempotency_key == key)
    )
    assert checkout is not None
    return checkout, False


@router.post(
    "/carts/{cart_id}/checkout",
    status_code=201,
    summary="Place the cart as an order: prices, credit and stock are checked, stock reserved",
    response_model=OrderRead,
    responses={
        200: {
            "model": OrderRead,
            "description": "This Idempotency-Key placed an order before: it is returned",
        },
        409: {
            "description": "Out of stock (lines named), an empty cart, or this key's checkout "
            "still running"
        },
        422: {"description": "Unorderable or unpriced lines, below the minimum, or credit"},
        428: {"description": "Idempotency-Key header missing"},
        503: {"description": "Pricing, accounts or catalog cannot answer now"},
    },
)
async def checkout(
    cart_id: uuid.UUID,
    request: Request,
    response: Response,
    principal: allow(*SHOPPERS),
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    body: CheckoutBody | None = None,
) -> Any:
    if not idempotency_key:
        raise PreconditionRequired("Send an Idempotency-Key so a retry never orders twice.")
    app = request.app
    body = body or CheckoutBody()
    started = await _start(app, principal, cart_id, idempotency_key, body.adds_to_order_id)
    if not started.lines:  # this key's checkout started before
        return await earlier_outcome(app, started.checkout, principal, response)
    placing = Placing(
        company_id=started.cart.company_id,
        quantities=[(sku, quantity) for sku, quantity, _ in started.lines],
        names={sku: name for sku, _, name in started.lines},
        comment=body.comment,
        cart_id=started.cart.id,
        adds_to_order_id=body.adds_to_order_id,
        need=body.need,
        rules=started.rules,
        approvals=started.approvals,
        preferred_warehouse=started.preferred_warehouse,
    )
    placed = await place(app, principal, started.checkout, placing)
    # The order as written, serialised once: no second read, no model per line.
    return Response(placed.json(), status_code=201, media_type="application/json")


async def earlier_outcome(
    app: FastAPI, checkout_row: Checkout, principal: Principal, response: Response
) -> OrderRead:
    if checkout_row.order_id is not None:
        response.status_code = 200
        async with app.state.sessionmaker() as session:
            order = await session.get_one(Order, checkout_row.order_id)
            await ensure_client(session, principal, order.company_id)
            return await read_order(session, order)
    raise Conflict("This checkout is still running; retry shortly.", slug="checkout-in-progress")


@dataclass(frozen=True)
class Placing:
    """What an order is placed from: a cart (priced now) or an accepted quote (priced already)."""

    company_id: uuid.UUID
    quantities: list[tuple[str, Decimal]]
    names: dict[str, str | None]
    comment: str | None = None
    cart_id: uuid.UUID | None = None  # emptied when the order is created
    quote_id: uuid.UUID | None = None
    priced: upstream.PricedCart | None = None
    adds_to_order_id: uuid.UUID | None = None
    need: str | None = None
    # Read with the cart in step 1; None: read them here (an accepted quote).
    rules: dict[str, OrderingRules] | None = None
    approvals: list[Rule] | None = None
    preferred_warehouse: str | None = None  # the client's: catalog takes stock from it first


@dataclass(frozen=True)
class PlacedOrder:
    """The order as step 3 wrote it: the row, its stored lines and its first audit entry."""

    order: Order  # not attached to a session
    lines: list[Any]
    history: list[dict[str, Any]]

    def read(self) -> OrderRead:
        return order_read(self.order, self.lines, [], self.history)

    def json(self) -> bytes:
        return placed_order_json(self.order, self.lines, self.history)


async def place(
    app: FastAPI, principal: Principal, checkout_row: Checkout, placing: Placing
) -> PlacedOrder:
    """Steps 2 to 4 of the saga. A ProblemError marks the checkout failed (stock given back)."""
    try:
        return await _place(app, principal, checkout_row, placing)
    except GivenUp as problem:
        # What it may have held again since (a renewed hold) goes back too: no order comes.
        await _give_back(app, checkout_row.id, problem)
        raise
    except ProblemError as problem:
        await _fail(app, checkout_row.id, problem.detail or problem.slug)
        raise


async def _place(
    app: FastAPI, principal: Principal, checkout_row: Checkout, placing: Placing
) -> PlacedOrder:
    settings = app.state.settings
    quantities = placing.quantities
    rules, approvals = placing.rules, placing.approvals
    if rules is None or approvals is None:
        async with app.state.sessionmaker() as session:
            rules = await ordering_rules(session, [sku for sku, _ in quantities])
            approvals = await approval_rules(session, placing.company_id)
    _, problems = check_lines(
        [WantedLine(i, s, str(q)) for i, (s, q) in enumerate(quantities, 1)], rules
    )
    if problems:
        raise Unprocessable(
            "Some cart lines cannot be ordered.",
            errors=[
                FieldError(field=f"lines.{p.field}", message=f"{p.sku}: {p.reason}", row=p.row)
                for p in problems
            ],
        )
    # Price and credit standing are independent: ask pricing and accounts at the same time.
    priced, standing = await asyncio.gather(
        _priced(app, principal, placing), upstream.credit_standing(app, placing.company_id)
    )
    unpriced = [i for i, p in enumerate(priced.lines, 1) if p.unit_price_minor is None]
    if unpriced:
        raise Unprocessable(
            "Some lines have no price for this client; ask your manager.",
            errors=[
                FieldError(field="lines.sku", message=f"{priced.lines[i - 1].sku}: no price", row=i)
                for i in unpriced
            ],
        )
    totals = [line_total(p.unit_price_minor or 0, p.quantity) for p in priced.lines]
    total = sum(totals)
    refuse_oversized(total, "lines.quantity")
    if total < settings.min_order_total_minor:
        raise Unprocessable(
            f"The minimum order is {settings.min_order_total_minor} {priced.currency} (minor "
            f"units); this cart comes to {total}.",
            slug="below-minimum-order",
        )
    buyer = str(principal.subject)
    status, hold = "placed", None
    reason = (
        approval_reason(approvals, total, priced.currency, buyer)
        if not principal.is_staff
        else None
    )
    if reason:
        status, hold = "pending_approval", reason
    else:
        status, hold = await credit_verdict(
            app, placing.company_id, total, priced.currency, standing
        )
    held = await _reserve(app, checkout_row, placing)
    try:
        return await _create_order(
            app, principal, checkout_row, placing, priced, totals, status, hold, held
        )
    except Exception as failure:
        await _give_back(app, checkout_row.id, failure)  # held, even confirmed
        raise


async def _reserve(app: FastAPI, checkout_row: Checkout, placing: Placing) -> upstream.HeldStock:
    try:
        return await upstream.reserve_stock(
            app, checkout_row.id, placing.quantities, placing.preferred_warehouse
        )
    except Conflict:
        raise  # catalog refused: it holds nothing
    except Exception as failure:
        # No answer (503, a timeout) or none understood: catalog may have reserved all the same.
        await _give_back(app, checkout_row.id, failure)
        raise


async def _priced(app: FastAPI, principal: Principal, placing: Placing) -> upstream.PricedCart:
    if placing.priced is not None:
        return placing.priced
    return await upstream.price_cart(app, principal, placing.company_id, placing.quantities)


async def credit_verdict(
    app: FastAPI,
    company_id: uuid.UUID,
    total: int,
    currency: str,
    standing: CreditStanding | None = None,
) -> tuple[str, str | None]:
    """("placed", None), ("credit_hold", why), or CreditRefused telling the buyer why."""
    settings = app.state.settings
    decision = decide_credit(
        standing or await upstream.credit_standing(app, company_id),
        total,
        currency,
        overdue_threshold_minor=settings.overdue_threshold_minor,
        on_breach=settings.credit_on_breach,
    )
    if decision.verdict == "refuse":
        raise CreditRefused(f"The order cannot be placed on credit: {decision.reason}.")
    if decision.verdict == "hold":
        return "credit_hold", f"waiting for a sales manager: {decision.reason}"
    return "placed", None


async def _create_order(
    app: FastAPI,
    principal: Principal,
    checkout_row: Checkout,
    placing: Placing,
    priced: upstream.PricedCart,
    totals: list[int],
    status: str,
    hold: str | None,
    held: upstream.HeldStock,
) -> PlacedOrder:
    """Step 3: catalog confirms the stock (holds it again if it was given back meanwhile, or
    refuses with the short lines), then one transaction: the order, its price snapshots, the
    emptied cart, the event. A crash before the commit leaves the checkout `started`: recovery
    gives back what catalog holds under its id. Catalog not answering the confirmation leaves
    the checkout `placed`: recovery confirms."""
    held, confirmed = await upstream.keep_stock(
        app, checkout_row.id, placing.quantities, placing.preferred_warehouse, held
    )
    if not confirmed:
        log.warning("reservation %s not confirmed yet; recovery will", held.id)
    now = utcnow()
    actor = str(principal.subject)
    reservation_id = held.id
    values = {
        "id": uuid.uuid4(),
        "company_id": placing.company_id,
        "source": "manager" if principal.is_staff else "portal",
        "placed_by": actor,
        "on_behalf_of_client": principal.is_staff,
        "status": status,
        "hold_reason": hold,
        "currency": priced.currency,
        "total_minor": sum(totals),
        "comment": placing.comment,
        "reservation_id": reservation_id,
        "quote_id": placing.quote_id,
        "adds_to_order_id": placing.adds_to_order_id,
        "need": placing.need,
        "placed_at": now,
        "updated_at": now,
    }
    order = Order(**values)
    async with app.state.sessionmaker.begin() as session:
        order.number, lines = await store.place_order(
            session,
            values,
            actor,
            hold,
            priced.priced_on,
            priced.price_version,
            {
                "skus": [p.sku for p in priced.lines],
                "names": [placing.names.get(p.sku) for p in priced.lines],
                "quantities": [p.quantity for p in priced.lines],
                "unit_prices": [p.unit_price_minor for p in priced.lines],
                "list_prices": [p.list_price_minor for p in priced.lines],
                "rules": [p.rule for p in priced.lines],
                "sources": [
                    orjson.dumps(x).decode()
                    for x in sources_by_line(
                        [(p.sku, p.quantity) for p in priced.lines], held.lines
                    )
                ],
            },
        )
        if status == "placed":
            await store.emit_placed(session, order, lines)
        if placing.quote_id is not None:
            await quote_store.mark_accepted(session, placing.quote_id, order)
        # Only a checkout still running: one the recovery gave up (it ran past
        # ORDERS_CHECKOUT_STALE_SECONDS) has had its stock given back and its key freed.
        done = (
            update(Checkout)
            .where(Checkout.id == checkout_row.id, Checkout.state == "started")
            .values(
                state="settled" if confirmed else "placed",
                reservation_id=reservation_id,
                order_id=order.id,
                updated_at=now,
            )
        )
        if placing.cart_id is not None:  # emptied in the same statement
            done = done.add_cte(
                delete(CartLine).where(CartLine.cart_id == placing.cart_id).cte("emptied")
            )
        if (await session.execute(done.returning(Checkout.id))).first() is None:
            raise GivenUp("The checkout took too long and was given up; nothing was ordered.")
    first = {"from_status": None, "to_status": status, "at": now, "actor": actor, "note": hold}
    return PlacedOrder(order, lines, [first])
