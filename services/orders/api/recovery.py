"""The checkout saga's recovery, in the worker process: checkouts a crash or a silent catalog
left half done. A checkout `started` long ago has no order and never will, so what catalog
holds under its id is given back; one `reserved` (it failed, and catalog could not take its
stock back then) is given back at once. An order created while catalog could not confirm its
stock (`placed`) gets it confirmed, held again if catalog gave it back meanwhile, or, when
that stock is gone, the order is cancelled saying which lines: no order stays placed on stock
nobody holds."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import select, update

from services.orders import upstream
from services.orders.domain.lifecycle import TRANSITIONS
from services.orders.domain.stock import sources_by_line
from services.orders.store import orders as store
from services.orders.store.catalog import preferred_warehouse
from services.orders.store.models import Checkout, Order
from shared.clock import utcnow
from shared.problems import Conflict

log = logging.getLogger(__name__)
RECOVERY_POLL_SECONDS = 10.0
ACTOR = "orders"  # the audit trail's actor when the saga itself cancels


async def recover_checkouts(app: FastAPI) -> None:
    """Runs in the worker process, and once at its start-up."""
    while True:
        try:
            await recover_once(app)
        except Exception:
            log.exception("checkout recovery failed; retrying")
        await asyncio.sleep(RECOVERY_POLL_SECONDS)


async def recover_once(app: FastAPI) -> int:
    """Interrupted checkouts and failed ones whose stock catalog still holds (`reserved`: no
    order will come, so at once) give their stock back; created orders keep theirs."""
    stale = utcnow() - timedelta(seconds=app.state.settings.checkout_stale_seconds)
    async with app.state.sessionmaker() as session:
        rows = list(
            await session.scalars(
                select(Checkout)
                .where(
                    Checkout.state.in_(("started", "reserved", "placed")),
                    (Checkout.updated_at < stale) | (Checkout.state == "reserved"),
                )
                .limit(100)
            )
        )
    for row in rows:
        if row.state == "placed":
            state, failure = await _keep_order_stock(app, row)
        else:  # the checkout's id is the reservation's reference, whether it kept the id or not
            await upstream.release_by_reference(app, row.id)
            state, failure = "failed", f"{row.failure or 'interrupted'}; the stock was given back"
        async with app.state.sessionmaker.begin() as session:
            await session.execute(
                update(Checkout)
                .where(Checkout.id == row.id, Checkout.state == row.state)
                .values(state=state, failure=failure, updated_at=utcnow())
            )
    return len(rows)


async def _keep_order_stock(app: FastAPI, row: Checkout) -> tuple[str, str | None]:
    """The checkout's next state (and why) once its order's stock is confirmed: `settled`;
    `placed` again (a later pass tries again) while catalog does not confirm. The order stays
    locked while its stock is held again, so a cancellation waits, then frees that stock."""
    assert row.reservation_id is not None and row.order_id is not None
    if await upstream.confirm_reservation(app, row.reservation_id):
        return "settled", None
    async with app.state.sessionmaker.begin() as session:
        order = await session.get_one(Order, row.order_id, with_for_update=True)
        if "cancelled" not in TRANSITIONS[order.status]:
            return "settled", None  # cancelled, or the goods left: no stock to hold
        wanted = [(x.sku, x.quantity) for x in await store.line_rows(session, order.id)]
        preferred = await preferred_warehouse(session, order.company_id)
        try:
            held, confirmed = await upstream.hold_again(app, row.id, wanted, preferred)
        except Conflict as short:
            reason = "its stock was given back before it was confirmed and is gone: " + "; ".join(
                e.message for e in short.errors
            )
            await store.move(session, order, "cancelled", ACTOR, note=reason)
            return "settled", f"the order was cancelled: {reason}"
        await store.restate_sources(session, order.id, sources_by_line(wanted, held.lines))
    return ("settled", None) if confirmed else ("placed", None)
