"""ERP's side of orders: status updates in bulk and the offline orders (phone, a manager in
ERP) imported so the portal shows one history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.domain.lines import line_total
from services.orders.store import order_queries
from services.orders.store import orders as store
from services.orders.store.catalog import companies_by_external_id, unit_costs
from services.orders.store.models import Order
from services.orders.usecases.delays import tell_if_slipped
from services.orders.usecases.erp_batches import apply_rows
from shared.auth import Principal
from shared.batches import Batch, Mode
from shared.fields import refuse_oversized
from shared.problems import FieldError, Unprocessable


def erp_actor(principal: Principal) -> str:
    return f"erp:{principal.subject}"


async def apply_status_updates(
    session: AsyncSession, principal: Principal, updates: Sequence[Any], mode: Mode
) -> Batch:
    """Each update (`order`, `status`, `at`, `note`, `promised_from`/`promised_to`,
    `delay_reason`, `delivered` as sku and quantity) moves its order, or repeats what is
    known; a promised date moved later is told (`order.delayed`, usecases/delays.py)."""
    actor = erp_actor(principal)

    async def apply(order: Order, update: Any) -> bool:
        promised_before = order.promised_to
        moved = await store.move(
            session,
            order,
            update.status,
            actor,
            at=update.at,
            note=update.note,
            promised=(update.promised_from, update.promised_to),
            delivered={d.sku: d.quantity for d in update.delivered}
            if update.delivered is not None
            else None,
        )
        told = await tell_if_slipped(
            session, order, promised_before, update.delay_reason, update.at
        )
        return moved or told

    return await apply_rows(
        session, updates, apply, mode=mode, field_name="updates", what="updates"
    )


async def import_offline_orders(
    session: AsyncSession, principal: Principal, offline_orders: Sequence[Any]
) -> int:
    """Offline orders (`external_id`, `client` by ERP id, `placed_at`, `currency`, `status`,
    `lines`), all or nothing, idempotent by ERP's number; returns how many were created."""
    clients = await companies_by_external_id(session, {o.client for o in offline_orders})
    errors = [
        FieldError(field="client", message=f"unknown client {o.client}", row=i)
        for i, o in enumerate(offline_orders, 1)
        if o.client not in clients
    ]
    if errors:
        raise Unprocessable("Unknown clients; nothing was imported.", errors=errors)
    known = await order_queries.known_external_ids(session, [o.external_id for o in offline_orders])
    actor = erp_actor(principal)
    created = 0
    costs = {
        currency: await unit_costs(
            session, [x.sku for o in offline_orders for x in o.lines], currency
        )
        for currency in {o.currency for o in offline_orders}
    }
    for row, offline in enumerate(offline_orders, 1):
        total = sum(line_total(x.unit_price_minor, x.quantity) for x in offline.lines)
        refuse_oversized(total, "lines", row)
    for offline in offline_orders:
        if offline.external_id in known:
            continue
        known.add(offline.external_id)
        order = Order(
            id=uuid.uuid4(),
            number=await store.next_number(session),
            external_id=offline.external_id,
            company_id=clients[offline.client],
            source="erp",
            placed_by=actor,
            status="placed",
            currency=offline.currency,
            total_minor=sum(line_total(x.unit_price_minor, x.quantity) for x in offline.lines),
            placed_at=offline.placed_at,
        )
        session.add(order)
        await session.flush()
        await store.add_lines(
            session,
            order.id,
            [
                {
                    "sku": x.sku,
                    "name": x.name,
                    "quantity": x.quantity,
                    "unit_price_minor": x.unit_price_minor,
                    "list_price_minor": None,
                    "price_rule": "erp",
                    "priced_on": offline.placed_at.date(),
                    "unit_cost_minor": costs[offline.currency].get(x.sku),
                }
                for x in offline.lines
            ],
        )
        await store.open_order(session, order, actor, "offline order from ERP")
        if offline.status != "placed":
            await store.move(session, order, offline.status, actor, at=offline.placed_at)
        created += 1
    return created
