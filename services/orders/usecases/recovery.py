"""The checkout saga's recovery (`workers.py` runs it): checkouts a crash or a silent catalog
left half done. A checkout `started` long ago has no order and never will, so what catalog
holds under its id is given back; one `reserved` (it failed, and catalog could not take its
stock back then) is given back at once. An order created while catalog could not confirm its
stock (`placed`) gets it confirmed, held again if catalog gave it back meanwhile, or, when
that stock is gone, the order is cancelled saying which lines: no order stays placed on stock
nobody holds."""

from __future__ import annotations

from datetime import timedelta

from services.orders.clients.catalog import confirm_reservation, hold_again, release_by_reference
from services.orders.domain.lifecycle import TRANSITIONS
from services.orders.domain.stock import sources_by_line
from services.orders.store import checkouts
from services.orders.store import orders as store
from services.orders.store.catalog import preferred_warehouse
from services.orders.store.models import Checkout, Order
from services.orders.usecases.context import Collaborators
from shared.clock import utcnow
from shared.problems import Conflict

ACTOR = "orders"  # the audit trail's actor when the saga itself cancels


async def recover_checkouts(collaborators: Collaborators) -> int:
    """Interrupted checkouts and failed ones whose stock catalog still holds (`reserved`: no
    order will come, so at once) give their stock back; created orders keep theirs. Returns
    how many checkouts it looked at."""
    stale = utcnow() - timedelta(seconds=collaborators.settings.checkout_stale_seconds)
    async with collaborators.sessionmaker() as session:
        rows = await checkouts.to_recover(session, stale)
    for row in rows:
        if row.state == "placed":
            state, failure = await _keep_order_stock(collaborators, row)
        else:  # the checkout's id is the reservation's reference, whether it kept the id or not
            await release_by_reference(collaborators.upstreams, row.id)
            state, failure = "failed", f"{row.failure or 'interrupted'}; the stock was given back"
        async with collaborators.sessionmaker.begin() as session:
            await checkouts.move_on(session, row, state, failure)
    return len(rows)


async def _keep_order_stock(collaborators: Collaborators, row: Checkout) -> tuple[str, str | None]:
    """The checkout's next state (and why) once its order's stock is confirmed: `settled`;
    `placed` again (a later pass tries again) while catalog does not confirm. The order stays
    locked while its stock is held again, so a cancellation waits, then frees that stock."""
    assert row.reservation_id is not None and row.order_id is not None
    upstreams = collaborators.upstreams
    if await confirm_reservation(upstreams, row.reservation_id):
        return "settled", None
    async with collaborators.sessionmaker.begin() as session:
        order = await session.get_one(Order, row.order_id, with_for_update=True)
        if "cancelled" not in TRANSITIONS[order.status]:
            return "settled", None  # cancelled, or the goods left: no stock to hold
        wanted = [(x.sku, x.quantity) for x in await store.line_rows(session, order.id)]
        preferred = await preferred_warehouse(session, order.company_id)
        try:
            held, confirmed = await hold_again(upstreams, row.id, wanted, preferred)
        except Conflict as short:
            reason = "its stock was given back before it was confirmed and is gone: " + "; ".join(
                e.message for e in short.errors
            )
            await store.move(session, order, "cancelled", ACTOR, note=reason)
            return "settled", f"the order was cancelled: {reason}"
        await store.restate_sources(session, order.id, sources_by_line(wanted, held.lines))
    return ("settled", None) if confirmed else ("placed", None)
