"""What to offer one client: the categories its peers buy and it does not (with the SKUs most
of them buy there), and what it will likely need again in the next period."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.domain.assortment import assortment_gaps, reorder_list
from services.analytics.domain.cross_sell import peer_label
from services.analytics.settings import Settings
from services.analytics.store import queries
from services.analytics.store.queries import CLIENTS
from shared.auth import Principal
from shared.clock import utcnow
from shared.problems import NotFound


async def cross_sell(
    session: AsyncSession, settings: Settings, principal: Principal, client_id: uuid.UUID
) -> dict[str, Any]:
    """The client's gaps against its peers (same industry, type and, if known, size)."""
    await CLIENTS.ensure(session, principal, client_id)
    who = await queries.client(session, client_id)
    if who is None:
        raise NotFound("No such client.")
    bought = await queries.peer_purchases(session, who, settings.history_months, utcnow())
    parts = [who.industry or "any industry", who.client_type or "any type"]
    if who.size:
        parts.append(f"size {who.size}")
    gaps = assortment_gaps(bought, peer_label(who.industry, who.client_type, who.size), settings)
    names = await queries.product_names(
        session, sorted({s["sku"] for g in gaps for s in g["skus"]})
    )
    for gap in gaps:
        for sku in gap["skus"]:
            sku["name"] = names.get(sku["sku"])
    return {
        "client_id": client_id,
        "peers": bought.peers,
        "peer_definition": ", ".join(parts),
        "gaps": gaps,
    }


async def reorder(
    session: AsyncSession, settings: Settings, principal: Principal, client_id: uuid.UUID
) -> dict[str, Any]:
    """The client's own regular SKUs it will likely need in `reorder_period_days`."""
    await CLIENTS.ensure(session, principal, client_id)
    now = utcnow()
    history = await queries.client_lines(session, client_id, settings.xyz_months, now)
    lines = reorder_list(history, now, settings)
    names = await queries.product_names(session, [line["sku"] for line in lines])
    return {
        "client_id": client_id,
        "period_days": settings.reorder_period_days,
        "lines": [{"name": names.get(line["sku"]), **line} for line in lines],
    }
