"""Checkout, a saga over three services: price the cart (pricing), check credit (accounts),
hold the stock (catalog), then create the order here, or give the stock back.

This module is the start and the decision: the checkout row the Idempotency-Key names and
what the order is made of (one transaction), then the ordering rules, the prices, the minimum
order, the company's approval rules and credit. `usecases/placing.py` holds the stock and
creates the order. The Idempotency-Key names the checkout: a retried request finds it and
never creates a second order; a refused checkout placed nothing, so the same key checks out
again once the buyer fixed the cart.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

import orjson

from services.orders.clients.accounts import credit_standing
from services.orders.clients.catalog import (
    HeldStock,
    keep_stock,
    release_by_reference,
    reserve_stock,
)
from services.orders.clients.pricing import PricedCart, price_cart
from services.orders.domain.approval import Rule
from services.orders.domain.lines import OrderingRules
from services.orders.domain.stock import sources_by_line
from services.orders.store import carts as cart_store
from services.orders.store import checkouts as store
from services.orders.store import orders as order_store
from services.orders.store import quotes as quote_store
from services.orders.store.catalog import ordering_rules, preferred_warehouse
from services.orders.store.models import Cart, Checkout, Order
from services.orders.usecases.access import ensure_client, own_cart
from services.orders.usecases.checkout_decision import Decision, decide, refuse_unorderable
from services.orders.usecases.context import Collaborators
from services.orders.usecases.orders import OrderView, view_order
from shared.auth import Principal
from shared.clock import utcnow
from shared.problems import Conflict, FieldError, ProblemError, Unprocessable

log = logging.getLogger(__name__)


class PreconditionRequired(ProblemError):
    status, slug = 428, "idempotency-key-required"


def require_key(key: str | None) -> str:
    if not key:
        raise PreconditionRequired("Send an Idempotency-Key so a retry never orders twice.")
    return key


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


async def start(
    collaborators: Collaborators,
    principal: Principal,
    cart_id: uuid.UUID,
    key: str,
    adds_to_order_id: uuid.UUID | None,
) -> Started:
    """Step 1, one transaction: the checkout row (or the one this key started before) and
    everything the order is made of that orders itself knows."""
    async with collaborators.sessionmaker.begin() as session:
        cart = await own_cart(session, principal, cart_id)
        # An add-on names an order of the same company; another's is as unknown as none.
        if adds_to_order_id is not None and not await store.is_company_order(
            session, cart.company_id, adds_to_order_id
        ):
            raise Unprocessable(
                "The order this one adds to is not an order of the company.",
                errors=[
                    FieldError(field="adds_to_order_id", message="no such order of the company")
                ],
            )
        checkout, new = await store.open_checkout(session, cart.company_id, key, cart.id)
        lines: list[tuple[str, Decimal, str | None]] = []
        rules: dict[str, OrderingRules] = {}
        approvals: list[Rule] = []
        warehouse = None
        if new:
            lines, rules = await cart_store.lines_to_order(session, cart.id)
            if not lines:  # raised inside: the checkout row rolls back, the key stays free
                raise Conflict("The cart is empty.", slug="empty-cart")
            approvals = await store.approval_rules(session, cart.company_id)
            warehouse = await preferred_warehouse(session, cart.company_id)
        session.expunge_all()
    return Started(checkout, cart, lines, rules, approvals, warehouse)


async def earlier_order(
    collaborators: Collaborators, checkout: Checkout, principal: Principal
) -> OrderView:
    """The order this key's checkout placed before; 409 while it still runs."""
    if checkout.order_id is None:
        raise Conflict(
            "This checkout is still running; retry shortly.", slug="checkout-in-progress"
        )
    async with collaborators.sessionmaker() as session:
        order = await session.get_one(Order, checkout.order_id)
        await ensure_client(session, principal, order.company_id)
        return await view_order(session, order)


class GivenUp(ProblemError):
    """The recovery gave this checkout up while it still ran (past the stale time): its stock
    was given back and its key freed, so it must not create its order after all."""

    status, slug = 409, "checkout-interrupted"


@dataclass(frozen=True)
class Placing:
    """What an order is placed from: a cart (priced now) or an accepted quote (priced already)."""

    company_id: uuid.UUID
    quantities: list[tuple[str, Decimal]]
    names: dict[str, str | None]
    comment: str | None = None
    cart_id: uuid.UUID | None = None  # emptied when the order is created
    quote_id: uuid.UUID | None = None
    priced: PricedCart | None = None
    adds_to_order_id: uuid.UUID | None = None
    need: str | None = None
    # Read with the cart in step 1; None: read them here (an accepted quote).
    rules: dict[str, OrderingRules] | None = None
    approvals: list[Rule] | None = None
    preferred_warehouse: str | None = None  # the client's: catalog takes stock from it first


@dataclass(frozen=True)
class CheckedOut:
    """The order, and whether this call created it (False: this key's earlier order)."""

    view: OrderView
    created: bool


async def check_out(
    collaborators: Collaborators,
    principal: Principal,
    cart_id: uuid.UUID,
    key: str | None,
    *,
    comment: str | None = None,
    adds_to_order_id: uuid.UUID | None = None,
    need: str | None = None,
) -> CheckedOut:
    """The cart becomes an order, or nothing changes and the reason is raised."""
    started = await start(collaborators, principal, cart_id, require_key(key), adds_to_order_id)
    if not started.lines:  # this key's checkout started before
        return CheckedOut(await earlier_order(collaborators, started.checkout, principal), False)
    placing = Placing(
        company_id=started.cart.company_id,
        quantities=[(sku, quantity) for sku, quantity, _ in started.lines],
        names={sku: name for sku, _, name in started.lines},
        comment=comment,
        cart_id=started.cart.id,
        adds_to_order_id=adds_to_order_id,
        need=need,
        rules=started.rules,
        approvals=started.approvals,
        preferred_warehouse=started.preferred_warehouse,
    )
    return CheckedOut(await place(collaborators, principal, started.checkout, placing), True)


async def place(
    collaborators: Collaborators, principal: Principal, checkout: Checkout, placing: Placing
) -> OrderView:
    """Steps 2 to 5 of the saga. A ProblemError marks the checkout failed (stock given back).

    Not one transaction: catalog is called between them, and a connection is not held while
    another service answers. Step 1 committed the checkout row (the key is taken, the recovery
    can find it); the order is one transaction once catalog confirmed; a failure is a third."""
    try:
        return await _place(collaborators, principal, checkout, placing)
    except GivenUp as problem:
        # What it may have held again since (a renewed hold) goes back too: no order comes.
        await _give_back(collaborators, checkout.id, problem)
        raise
    except ProblemError as problem:
        await _fail(collaborators, checkout.id, problem.detail or problem.slug)
        raise


async def _place(
    collaborators: Collaborators, principal: Principal, checkout: Checkout, placing: Placing
) -> OrderView:
    rules, approvals = placing.rules, placing.approvals
    if rules is None or approvals is None:
        async with collaborators.sessionmaker() as session:
            rules = await ordering_rules(session, [sku for sku, _ in placing.quantities])
            approvals = await store.approval_rules(session, placing.company_id)
    refuse_unorderable(placing.quantities, rules)
    # Price and credit standing are independent: ask pricing and accounts at the same time.
    priced, standing = await asyncio.gather(
        _priced(collaborators, principal, placing),
        credit_standing(collaborators.upstreams, placing.company_id),
    )
    decision = decide(collaborators.settings, principal, priced, standing, approvals)
    held = await _reserve(collaborators, checkout, placing)
    try:
        return await _create_order(
            collaborators, principal, checkout, placing, priced, decision, held
        )
    except Exception as failure:
        await _give_back(collaborators, checkout.id, failure)  # held, even confirmed
        raise


async def _priced(
    collaborators: Collaborators, principal: Principal, placing: Placing
) -> PricedCart:
    if placing.priced is not None:
        return placing.priced
    return await price_cart(
        collaborators.upstreams, principal, placing.company_id, placing.quantities
    )


async def _reserve(collaborators: Collaborators, checkout: Checkout, placing: Placing) -> HeldStock:
    try:
        return await reserve_stock(
            collaborators.upstreams, checkout.id, placing.quantities, placing.preferred_warehouse
        )
    except Conflict:
        raise  # catalog refused: it holds nothing
    except Exception as failure:
        # No answer (503, a timeout) or none understood: catalog may have reserved all the same.
        await _give_back(collaborators, checkout.id, failure)
        raise


async def _fail(
    collaborators: Collaborators, checkout_id: uuid.UUID, reason: str, holding: bool = False
) -> None:
    """A started checkout ends without an order: `failed`, or `reserved` when catalog may
    still hold stock under its id (giving it back failed), for the recovery to give back. A
    checkout already `reserved` stays so."""
    async with collaborators.sessionmaker.begin() as session:
        await store.end_started(session, checkout_id, "reserved" if holding else "failed", reason)


async def _give_back(
    collaborators: Collaborators, checkout_id: uuid.UUID, failure: Exception
) -> None:
    """Give back whatever catalog holds under the checkout's id before the checkout is marked
    failed: its key may start again at once and must not find its own stock taken. When
    catalog cannot take it back, the checkout stays `reserved` and that failure is raised."""
    try:
        await release_by_reference(collaborators.upstreams, checkout_id)
    except Exception:
        reason = getattr(failure, "detail", None) or type(failure).__name__
        await _fail(collaborators, checkout_id, reason, holding=True)
        raise


async def _create_order(
    collaborators: Collaborators,
    principal: Principal,
    checkout: Checkout,
    placing: Placing,
    priced: PricedCart,
    decision: Decision,
    held: HeldStock,
) -> OrderView:
    """Catalog confirms the stock (holds it again if it was given back meanwhile, or refuses
    with the short lines), then one transaction: the order, its price snapshots, the emptied
    cart, the event. A crash before the commit leaves the checkout `started`: recovery gives
    back what catalog holds under its id. Catalog not answering the confirmation leaves the
    checkout `placed`: recovery confirms."""
    held, confirmed = await keep_stock(
        collaborators.upstreams, checkout.id, placing.quantities, placing.preferred_warehouse, held
    )
    if not confirmed:
        log.warning("reservation %s not confirmed yet; recovery will", held.id)
    now = utcnow()
    actor = str(principal.subject)
    status, hold = decision.status, decision.hold
    values = {
        "id": uuid.uuid4(),
        "company_id": placing.company_id,
        "source": "manager" if principal.is_staff else "portal",
        "placed_by": actor,
        "on_behalf_of_client": principal.is_staff,
        "status": status,
        "hold_reason": hold,
        "currency": priced.currency,
        "total_minor": sum(decision.totals),
        "comment": placing.comment,
        "reservation_id": held.id,
        "quote_id": placing.quote_id,
        "adds_to_order_id": placing.adds_to_order_id,
        "need": placing.need,
        "placed_at": now,
        "updated_at": now,
    }
    order = Order(**values)
    async with collaborators.sessionmaker.begin() as session:
        order.number, lines = await order_store.place_order(
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
            await order_store.emit_placed(session, order, lines)
        if placing.quote_id is not None:
            await quote_store.mark_accepted(session, placing.quote_id, order)
        # Only a checkout still running: one the recovery gave up (it ran past
        # ORDERS_CHECKOUT_STALE_SECONDS) has had its stock given back and its key freed.
        if not await store.record_order(
            session,
            checkout.id,
            state="settled" if confirmed else "placed",
            reservation_id=held.id,
            order_id=order.id,
            at=now,
            cart_id=placing.cart_id,
        ):
            raise GivenUp("The checkout took too long and was given up; nothing was ordered.")
    first = {"from_status": None, "to_status": status, "at": now, "actor": actor, "note": hold}
    return OrderView(order, lines, [], [first])
