"""Every read query of the API: profiles, segment lists, SKU segments, summary, feedback."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Select, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.domain.assortment import PeerPurchases
from services.analytics.domain.facts import SEGMENT_DIMENSIONS
from services.analytics.store.models import (
    BaseStats,
    Client,
    ClientSegment,
    Feedback,
    OrderFact,
    SalesPlan,
    SkuSegment,
)
from shared.auth import Principal
from shared.clock import utcnow
from shared.pagination import PageParams, paginate
from shared.scope import ClientScope

# The clients analytics knows and their assigned sales managers: what `shared.scope` checks.
CLIENTS = ClientScope(Client.id, Client.sales_manager_id)


async def client(session: AsyncSession, client_id: uuid.UUID) -> Client | None:
    return await session.get(Client, client_id)


async def segment(session: AsyncSession, client_id: uuid.UUID) -> ClientSegment | None:
    return await session.get(ClientSegment, client_id)


def segment_list(filters: dict[str, Any]) -> Select[Any]:
    stmt = select(ClientSegment, Client.legal_name).join(
        Client, Client.id == ClientSegment.client_id, isouter=True
    )
    for name in (*SEGMENT_DIMENSIONS, "currency"):
        if filters.get(name):
            stmt = stmt.where(getattr(ClientSegment, name).in_(filters[name]))
    if filters.get("churn_raised") is not None:
        stmt = stmt.where(ClientSegment.churn_raised.is_(filters["churn_raised"]))
    if filters.get("min_churn_score") is not None:
        stmt = stmt.where(ClientSegment.churn_score >= filters["min_churn_score"])
    if filters.get("sales_manager_id"):
        stmt = stmt.where(Client.sales_manager_id == filters["sales_manager_id"])
    if filters.get("industry"):
        stmt = stmt.where(Client.industry == filters["industry"])
    return stmt


async def segment_page(
    session: AsyncSession,
    caller: Principal,
    filters: dict[str, Any],
    after: uuid.UUID | None,
    limit: int,
) -> list[tuple[ClientSegment, str | None]]:
    """A page of the clients `caller` reaches, with their segments."""
    stmt = CLIENTS.narrow(segment_list(filters), ClientSegment.client_id, caller)
    if after:
        stmt = stmt.where(ClientSegment.client_id > after)
    rows = await session.execute(stmt.order_by(ClientSegment.client_id).limit(limit + 1))
    return [(r[0], r[1]) for r in rows.all()]


async def segment_counts(session: AsyncSession, currency: str | None) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for dimension in SEGMENT_DIMENSIONS:
        column = getattr(ClientSegment, dimension)
        stmt = select(column, func.count()).where(column.is_not(None)).group_by(column)
        if currency:
            stmt = stmt.where(ClientSegment.currency == currency)
        out[dimension] = {k: n for k, n in (await session.execute(stmt.order_by(column))).all()}
    return out


async def sku_page(
    session: AsyncSession, filters: dict[str, Any], after: tuple[str, str] | None, limit: int
) -> list[SkuSegment]:
    stmt = select(SkuSegment)
    for name in ("abc", "xyz", "currency"):
        if filters.get(name):
            stmt = stmt.where(getattr(SkuSegment, name).in_(filters[name]))
    if after:
        stmt = stmt.where(
            func.row(SkuSegment.sku, SkuSegment.currency) > func.row(after[0], after[1])
        )
    rows = await session.scalars(
        stmt.order_by(SkuSegment.sku, SkuSegment.currency).limit(limit + 1)
    )
    return list(rows.all())


async def summaries(
    session: AsyncSession, currency: str | None, page: PageParams
) -> tuple[list[BaseStats], str | None]:
    stmt = select(BaseStats)
    if currency:
        stmt = stmt.where(BaseStats.currency == currency)
    return await paginate(session, stmt, [BaseStats.currency], page)


async def order_client(session: AsyncSession, order_id: uuid.UUID) -> uuid.UUID | None:
    return await session.scalar(select(OrderFact.client_id).where(OrderFact.order_id == order_id))


async def add_feedback(session: AsyncSession, values: dict[str, Any]) -> Feedback | None:
    """The answer, or None when this person already answered this touchpoint of this order."""
    row = await session.scalar(
        insert(Feedback)
        .values(id=uuid.uuid4(), **values)
        .on_conflict_do_nothing()
        .returning(Feedback)
    )
    return row


PEER_PURCHASES = """
    CREATE TEMP TABLE peer_bought ON COMMIT DROP AS
    SELECT f.client_id, p.category, f.sku
    FROM client_sku_facts f
    JOIN products p ON p.sku = f.sku AND p.category IS NOT NULL
    WHERE f.lines > 0 AND f.last_at > :since AND f.client_id IN (
        SELECT c.id FROM clients c
        WHERE c.id = :id OR (
            c.industry IS NOT DISTINCT FROM :industry
            AND c.client_type IS NOT DISTINCT FROM :client_type
            AND (CAST(:size AS text) IS NULL OR c.size = :size)))
"""


async def peer_purchases(
    session: AsyncSession, who: Client, months: int, as_of: datetime
) -> PeerPurchases:
    """What the client and its peers (clients of the same industry and type, and size when the
    client's is known) bought in the window, counted in the database."""
    await session.execute(
        text(PEER_PURCHASES),
        {
            "id": who.id,
            "industry": who.industry,
            "client_type": who.client_type,
            "size": who.size,
            "since": as_of - timedelta(days=months * 30.4375),
        },
    )
    me = {"id": who.id}
    peers = await session.scalar(
        text("SELECT count(DISTINCT client_id) FROM peer_bought WHERE client_id <> :id"), me
    )
    categories = await session.execute(
        text(
            "SELECT category, count(DISTINCT client_id) FROM peer_bought "
            "WHERE client_id <> :id GROUP BY category"
        ),
        me,
    )
    skus = await session.execute(
        text(
            "SELECT category, sku, count(*) FROM peer_bought WHERE client_id <> :id "
            "GROUP BY category, sku"
        ),
        me,
    )
    own = await session.execute(
        text("SELECT DISTINCT category FROM peer_bought WHERE client_id = :id"), me
    )
    await session.execute(text("DROP TABLE peer_bought"))
    return PeerPurchases(
        peers=int(peers or 0),
        categories=pl.DataFrame(
            categories.all(), schema={"category": pl.String, "buyers": pl.Int64}, orient="row"
        ),
        skus=pl.DataFrame(
            skus.all(),
            schema={"category": pl.String, "sku": pl.String, "peer_clients": pl.Int64},
            orient="row",
        ),
        own_categories={r[0] for r in own.all()},
    )


async def client_lines(
    session: AsyncSession, client_id: uuid.UUID, months: int, as_of: datetime
) -> pl.DataFrame:
    rows = await session.execute(
        text(
            """
            SELECT l.sku, l.placed_at, l.quantity::float8
            FROM order_line_facts l JOIN order_facts o ON o.order_id = l.order_id AND o.counted
            WHERE l.client_id = :id AND l.placed_at > :since
            """
        ),
        {"id": client_id, "since": as_of - timedelta(days=(months + 1) * 30.4375)},
    )
    return pl.DataFrame(
        rows.all(),
        schema={"sku": pl.String, "placed_at": pl.Datetime("us", "UTC"), "quantity": pl.Float64},
        orient="row",
    )


async def product_names(session: AsyncSession, skus: list[str]) -> dict[str, str]:
    if not skus:
        return {}
    rows = await session.execute(
        text("SELECT sku, name FROM products WHERE sku = ANY(:skus)"), {"skus": skus}
    )
    return dict(rows.all())


async def needing_action(
    session: AsyncSession, manager_id: uuid.UUID, limit: int | None
) -> list[tuple[ClientSegment, Client]]:
    """A manager's clients with churn risk raised or overdue receivables, most at risk first
    (the first `limit` of them; None: all)."""
    rows = await session.execute(
        select(ClientSegment, Client)
        .join(Client, Client.id == ClientSegment.client_id)
        .where(
            Client.sales_manager_id == manager_id,
            ClientSegment.churn_raised.is_(True) | (Client.overdue_minor > 0),
        )
        .order_by(ClientSegment.churn_score.desc().nulls_last(), ClientSegment.client_id)
        .limit(limit)
    )
    return [(r[0], r[1]) for r in rows.all()]


async def set_plan(
    session: AsyncSession,
    client_id: uuid.UUID,
    month: date,
    currency: str,
    plan_minor: int,
    set_by: str,
) -> None:
    stmt = insert(SalesPlan).values(
        client_id=client_id, month=month, currency=currency, plan_minor=plan_minor, set_by=set_by
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[SalesPlan.client_id, SalesPlan.month],
            set_={
                "currency": stmt.excluded.currency,
                "plan_minor": stmt.excluded.plan_minor,
                "set_by": stmt.excluded.set_by,
                "updated_at": utcnow(),
            },
        )
    )


async def plan_vs_fact(
    session: AsyncSession, client_id: uuid.UUID, first: date, last: date
) -> list[tuple[date, str | None, int | None, int, int]]:
    """Per month from `first` to `last`: plan, shipped (delivered value) and ordered, the
    facts in the plan's currency (or the client's when there is no plan)."""
    rows = await session.execute(
        text(
            """
            WITH months AS (
                SELECT generate_series(CAST(:first AS date), CAST(:last AS date),
                                       interval '1 month')::date AS month),
            home AS (SELECT currency FROM clients WHERE id = :id)
            SELECT m.month, coalesce(p.currency, (SELECT currency FROM home)), p.plan_minor,
                   coalesce((SELECT sum(o.delivered_minor) FROM order_facts o
                             WHERE o.client_id = :id AND o.counted
                               AND o.currency = coalesce(p.currency, (SELECT currency FROM home))
                               AND o.delivered_at >= m.month
                               AND o.delivered_at < m.month + interval '1 month'), 0),
                   coalesce((SELECT sum(o.total_minor) FROM order_facts o
                             WHERE o.client_id = :id AND o.counted
                               AND o.currency = coalesce(p.currency, (SELECT currency FROM home))
                               AND o.placed_at >= m.month
                               AND o.placed_at < m.month + interval '1 month'), 0)
            FROM months m
            LEFT JOIN sales_plans p ON p.client_id = :id AND p.month = m.month
            ORDER BY m.month
            """
        ),
        {"id": client_id, "first": first, "last": last},
    )
    return [(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in rows.all()]
