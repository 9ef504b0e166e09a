"""Checkouts: the row an Idempotency-Key names, its states through the saga, the company's
approval rules it reads."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.domain.approval import Rule
from services.orders.store.models import ApprovalRule, CartLine, Checkout, Order
from shared.clock import utcnow


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


async def is_company_order(
    session: AsyncSession, company_id: uuid.UUID, order_id: uuid.UUID
) -> bool:
    found = await session.scalar(
        select(Order.id).where(Order.id == order_id, Order.company_id == company_id)
    )
    return found is not None


async def approval_rules(session: AsyncSession, company_id: uuid.UUID) -> list[Rule]:
    rows = await session.execute(
        select(ApprovalRule.above_minor, ApprovalRule.currency, ApprovalRule.buyer).where(
            ApprovalRule.company_id == company_id
        )
    )
    return [Rule(*row) for row in rows]


async def end_started(
    session: AsyncSession, checkout_id: uuid.UUID, state: str, failure: str
) -> None:
    """A checkout still `started` ends without an order; one in any other state stays so."""
    await session.execute(
        update(Checkout)
        .where(Checkout.id == checkout_id, Checkout.state == "started")
        .values(state=state, failure=failure, updated_at=utcnow())
    )


async def record_order(
    session: AsyncSession,
    checkout_id: uuid.UUID,
    *,
    state: str,
    reservation_id: uuid.UUID,
    order_id: uuid.UUID,
    at: datetime,
    cart_id: uuid.UUID | None,
) -> bool:
    """The checkout made its order (and the cart is emptied in the same statement); False when
    it is no longer `started` (the recovery gave it up)."""
    done = (
        update(Checkout)
        .where(Checkout.id == checkout_id, Checkout.state == "started")
        .values(state=state, reservation_id=reservation_id, order_id=order_id, updated_at=at)
    )
    if cart_id is not None:
        done = done.add_cte(delete(CartLine).where(CartLine.cart_id == cart_id).cte("emptied"))
    return (await session.execute(done.returning(Checkout.id))).first() is not None


async def to_recover(session: AsyncSession, stale_before: datetime) -> list[Checkout]:
    """Checkouts the saga left half done: still running since before `stale_before`, created
    an order whose stock catalog did not confirm, or failed holding stock (at once)."""
    return list(
        await session.scalars(
            select(Checkout)
            .where(
                Checkout.state.in_(("started", "reserved", "placed")),
                (Checkout.updated_at < stale_before) | (Checkout.state == "reserved"),
            )
            .limit(100)
        )
    )


async def move_on(
    session: AsyncSession, checkout: Checkout, state: str, failure: str | None
) -> None:
    """The checkout's next state, unless someone moved it meanwhile."""
    await session.execute(
        update(Checkout)
        .where(Checkout.id == checkout.id, Checkout.state == checkout.state)
        .values(state=state, failure=failure, updated_at=utcnow())
    )


async def rules_of(session: AsyncSession, company_id: uuid.UUID) -> list[ApprovalRule]:
    """The company's approval rules as rows, for showing them."""
    return list(
        await session.scalars(select(ApprovalRule).where(ApprovalRule.company_id == company_id))
    )
