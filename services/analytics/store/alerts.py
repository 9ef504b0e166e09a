"""The facts behind analytics' alerts to clients: stock levels, what clients bought of a SKU,
the SKUs they buy regularly and what they last paid, queued price changes, the offers told."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.domain.facts import DAYS_PER_MONTH
from services.analytics.store.models import CrossSellOffer, PriceCheck
from services.analytics.store.segments import read_frame
from shared.clock import utcnow
from shared.contracts.pricing import PriceChangedV1
from shared.events.envelope import EventContract
from shared.events.outbox import OutboxMessage, outbox_rows


def months_back(as_of: datetime, months: int) -> datetime:
    return as_of - timedelta(days=months * DAYS_PER_MONTH)


# Stock ----------------------------------------------------------------------------------------


# Each buyer of the SKU in the window (found through the client x SKU facts), with everything it
# bought in the window per SKU, in its own currency: what its own ABC is ranked on.
BUYERS_PURCHASES = """
    SELECT l.client_id::text, l.sku, sum(l.revenue_minor)::bigint AS revenue_minor,
           max(l.placed_at) AS last_at, o.currency
    FROM order_line_facts l
    JOIN order_facts o ON o.order_id = l.order_id AND o.counted
    LEFT JOIN clients c ON c.id = l.client_id
    WHERE l.client_id IN (SELECT client_id FROM client_sku_facts
                          WHERE sku = :sku AND lines > 0 AND last_at > :since)
      AND l.placed_at > :since AND o.currency = coalesce(c.currency, o.currency)
    GROUP BY l.client_id, l.sku, o.currency
"""
BUYERS_SCHEMA = {
    "client_id": pl.String,
    "sku": pl.String,
    "revenue_minor": pl.Int64,
    "last_at": pl.Datetime("us", "UTC"),
    "currency": pl.String,
}


async def buyers_purchases(
    session: AsyncSession, sku: str, months: int, as_of: datetime
) -> pl.DataFrame:
    rows = await session.execute(
        text(BUYERS_PURCHASES), {"sku": sku, "since": months_back(as_of, months)}
    )
    return pl.DataFrame(rows.all(), schema=BUYERS_SCHEMA, orient="row")


async def managers_and_name(
    session: AsyncSession, client_ids: list[str], sku: str
) -> tuple[dict[str, uuid.UUID | None], str]:
    rows = await session.execute(
        text("SELECT id::text, sales_manager_id FROM clients WHERE id = ANY(CAST(:ids AS uuid[]))"),
        {"ids": client_ids},
    )
    name = await session.scalar(text("SELECT name FROM products WHERE sku = :sku"), {"sku": sku})
    return dict(rows.all()), name or sku


# Price checks ---------------------------------------------------------------------------------


async def queue_price_check(session: AsyncSession, event: PriceChangedV1) -> None:
    """A change that touched every client (lists, a matrix, policy) is checked for every client;
    one that named only clients' own prices, for those clients."""
    everyone = event.matrix or event.policy or bool(event.list_codes) or not event.client_ids
    await session.execute(
        insert(PriceCheck)
        .values(
            change_id=event.change_id,
            client_ids=None if everyone else [str(c) for c in event.client_ids],
            sku_from=event.sku_from,
            sku_to=event.sku_to,
            changed_at=event.changed_at,
        )
        .on_conflict_do_nothing()
    )


async def take_price_check(session: AsyncSession) -> PriceCheck | None:
    """The oldest check not done, locked for this transaction (others skip it)."""
    return await session.scalar(
        select(PriceCheck)
        .where(PriceCheck.done_at.is_(None))
        .order_by(PriceCheck.changed_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


async def finish_price_check(session: AsyncSession, change_id: uuid.UUID, told: int) -> None:
    await session.execute(
        update(PriceCheck)
        .where(PriceCheck.change_id == change_id)
        .values(done_at=utcnow(), clients_told=told)
    )


# Per client and SKU bought in at least `min_months` distinct months of the window: the last
# counted line (its quantity, currency and unit price). Rows of one client come together.
LAST_PAID = """
    WITH lines AS (
        SELECT l.client_id, l.sku, l.placed_at, l.quantity, l.revenue_minor, o.currency
        FROM order_line_facts l
        JOIN order_facts o ON o.order_id = l.order_id AND o.counted
        WHERE l.placed_at > :since AND l.quantity > 0
          AND (CAST(:sku_from AS text) IS NULL OR l.sku >= :sku_from)
          AND (CAST(:sku_to AS text) IS NULL OR l.sku <= :sku_to)
          AND (CAST(:clients AS uuid[]) IS NULL OR l.client_id = ANY(CAST(:clients AS uuid[])))),
    regular AS (
        SELECT client_id, sku FROM lines GROUP BY client_id, sku
        HAVING count(DISTINCT date_trunc('month', placed_at)) >= :min_months)
    SELECT DISTINCT ON (l.client_id, l.sku) l.client_id::text, l.sku, coalesce(p.name, l.sku) AS name,
           l.currency, l.quantity::text AS quantity,
           round(l.revenue_minor / l.quantity)::bigint AS unit_price_minor
    FROM lines l JOIN regular r ON r.client_id = l.client_id AND r.sku = l.sku
    LEFT JOIN products p ON p.sku = l.sku
    ORDER BY l.client_id, l.sku, l.placed_at DESC
"""
LAST_PAID_SCHEMA = {
    "client_id": pl.String,
    "sku": pl.String,
    "name": pl.String,
    "currency": pl.String,
    "quantity": pl.String,
    "unit_price_minor": pl.Int64,
}


async def last_paid(
    session: AsyncSession, check: PriceCheck, months: int, min_months: int, as_of: datetime
) -> pl.DataFrame:
    """What each concerned client last paid for each SKU of the change it buys regularly."""
    clients = [uuid.UUID(c) for c in check.client_ids] if check.client_ids is not None else None
    rows = await session.execute(
        text(LAST_PAID),
        {
            "since": months_back(as_of, months),
            "sku_from": check.sku_from,
            "sku_to": check.sku_to,
            "clients": clients,
            "min_months": min_months,
        },
    )
    return pl.DataFrame(rows.all(), schema=LAST_PAID_SCHEMA, orient="row")


# Cross-sell -----------------------------------------------------------------------------------

# What every client with master data bought in the window, by category (the peers' facts).
BOUGHT = """
    SELECT f.client_id::text, p.category, f.sku
    FROM client_sku_facts f
    JOIN products p ON p.sku = f.sku AND p.category IS NOT NULL
    JOIN clients c ON c.id = f.client_id
    WHERE f.lines > 0 AND f.last_at > {since}
"""
BOUGHT_SCHEMA = {"client_id": pl.String, "category": pl.String, "sku": pl.String}
PEERS = "SELECT id::text AS client_id, industry, client_type, size FROM clients"
PEERS_SCHEMA = {
    "client_id": pl.String,
    "industry": pl.String,
    "client_type": pl.String,
    "size": pl.String,
}


async def everyones_purchases(
    session: AsyncSession, months: int, as_of: datetime
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(client_id, category, sku) bought in the window, and every client's peer keys."""
    since = "'" + months_back(as_of, months).isoformat() + "'::timestamptz"
    bought = await read_frame(session, BOUGHT, BOUGHT_SCHEMA, since=since)
    clients = await read_frame(session, PEERS, PEERS_SCHEMA)
    return bought, clients


async def offered_recently(session: AsyncSession, since: datetime) -> set[str]:
    rows = await session.scalars(
        select(CrossSellOffer.client_id).where(CrossSellOffer.offered_at > since)
    )
    return {str(r) for r in rows}


OFFERS_LOCK = "SELECT pg_advisory_xact_lock(hashtext('analytics.cross_sell_offers'))"


async def lock_offers(session: AsyncSession) -> None:
    """One offer job at a time, until its transaction ends."""
    await session.execute(text(OFFERS_LOCK))


async def remember_offers(
    session: AsyncSession, events: list[EventContract], offers: list[dict[str, Any]]
) -> None:
    """The offers' events (one outbox statement for thousands) and their record."""
    if not offers:
        return
    await session.execute(
        insert(OutboxMessage), outbox_rows(events, session.info.get("service", "analytics"))
    )
    stmt = insert(CrossSellOffer)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[CrossSellOffer.client_id],
            set_={"offered_at": stmt.excluded.offered_at, "categories": stmt.excluded.categories},
        ),
        offers,  # executemany, batched: thousands of clients in a few statements
    )
