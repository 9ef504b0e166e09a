"""Reads and writes of the sales views. Frames come through COPY (store.segments.read_frame),
narrowed in SQL to the period, the currency and, for a sales manager, the clients assigned to
them; the figures are computed by the domain (deals, funnels, sales)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.domain.deals import SALES_ORDERS_SCHEMA
from services.analytics.store.queries import CLIENTS
from services.analytics.store.sales_models import (
    KeyAccountMark,
    ManagerPlan,
    SalesSpend,
    SalesTeamMember,
    UpsellOffer,
)
from services.analytics.store.segments import read_frame
from shared.auth import Principal
from shared.clock import utcnow
from shared.scope import assigned_manager

UTC_TS = pl.Datetime("us", "UTC")


class Scope:
    """What a caller may see: the clients it reaches (`shared.scope`; every client when no
    caller is named), money in one currency.

    Values are put into SQL as literals, so only UUIDs, ISO currency codes and timestamps
    (all validated or made here) ever are."""

    def __init__(self, caller: Principal | None, currency: str | None = None) -> None:
        self.caller = caller
        # The sales manager whose own clients and own row of the team the caller sees.
        self.manager_id = assigned_manager(caller) if caller else None
        self.currency = currency

    def clients(self, column: str = "client_id") -> str:
        if self.caller is None:
            return ""
        return " AND " + CLIENTS.sql(self.caller, column)

    def money(self, column: str = "currency") -> str:
        return f" AND {column} = '{self.currency}'" if self.currency else ""


def _ts(value: datetime) -> str:
    return "'" + value.isoformat() + "'::timestamptz"


@dataclass(frozen=True)
class PeriodQuery:
    """A query of the facts of a period: `sql` ends in a WHERE clause, which `read` narrows to
    [since, until) on `at`, to the caller's clients (`clients`, the client id column) and, when
    `money` names the currency column, to the scope's currency."""

    sql: str
    schema: dict[str, Any]
    at: str
    clients: str = "client_id"
    money: str | None = None

    async def read(
        self, session: AsyncSession, scope: Scope, since: datetime, until: datetime
    ) -> pl.DataFrame:
        where = f" AND {self.at} >= {_ts(since)} AND {self.at} < {_ts(until)}"
        where += scope.clients(self.clients) + (scope.money(self.money) if self.money else "")
        return await read_frame(session, self.sql + where, self.schema)


ORDERS = PeriodQuery(
    "SELECT order_id, client_id, currency, placed_at, total_minor, lines, need, "
    "adds_to_order_id, on_behalf, delivered_minor FROM order_facts WHERE counted",
    SALES_ORDERS_SCHEMA,
    at="placed_at",
    money="currency",
)
LINES = PeriodQuery(
    "SELECT l.order_id, l.client_id, l.sku, p.category, l.quantity, "
    "coalesce(l.unit_price_minor, round(l.revenue_minor / nullif(l.quantity, 0)))::bigint "
    "AS unit_price_minor, l.list_price_minor, l.placed_at "
    "FROM order_line_facts l JOIN order_facts o ON o.order_id = l.order_id AND o.counted "
    "LEFT JOIN products p ON p.sku = l.sku WHERE true",
    {
        "order_id": pl.String,
        "client_id": pl.String,
        "sku": pl.String,
        "category": pl.String,
        "quantity": pl.Float64,
        "unit_price_minor": pl.Int64,
        "list_price_minor": pl.Int64,
        "placed_at": UTC_TS,
    },
    at="l.placed_at",
    clients="l.client_id",
    money="o.currency",
)
QUOTES = PeriodQuery(
    "SELECT quote_id, client_id, offered_at, offered_minor, accepted_at, accepted_minor, "
    "order_id FROM quote_facts WHERE true",
    {
        "quote_id": pl.String,
        "client_id": pl.String,
        "offered_at": UTC_TS,
        "offered_minor": pl.Int64,
        "accepted_at": UTC_TS,
        "accepted_minor": pl.Int64,
        "order_id": pl.String,
    },
    at="offered_at",
    money="currency",
)
# the SKUs of quotes requested in the period, with the order each became
QUOTE_LINES = PeriodQuery(
    "SELECT l.quote_id, l.sku, q.order_id FROM quote_line_facts l "
    "JOIN quote_facts q ON q.quote_id = l.quote_id WHERE true",
    {"quote_id": pl.String, "sku": pl.String, "order_id": pl.String},
    at="q.requested_at",
    clients="q.client_id",
)
OFFERS = PeriodQuery(
    "SELECT id, client_id, kind, sku, shown_at FROM upsell_offers WHERE true",
    {
        "id": pl.String,
        "client_id": pl.String,
        "kind": pl.String,
        "sku": pl.String,
        "shown_at": UTC_TS,
    },
    at="shown_at",
)
LOSS_REASONS = PeriodQuery(
    "SELECT r.kind, r.reason_code, s.abc_revenue AS segment, "
    "c.sales_manager_id::text AS manager FROM loss_reasons r "
    "LEFT JOIN clients c ON c.id = r.client_id "
    "LEFT JOIN client_segments s ON s.client_id = r.client_id WHERE true",
    {"kind": pl.String, "reason_code": pl.String, "segment": pl.String, "manager": pl.String},
    at="r.at",
    clients="r.client_id",
)


CLIENTS_SCHEMA = {
    "client_id": pl.String,
    "legal_name": pl.String,
    "currency": pl.String,
    "manager_id": pl.String,
    "department": pl.String,
    "industry": pl.String,
    "abc_revenue": pl.String,
    "churn_raised": pl.Boolean,
    "revenue_minor": pl.Int64,
}


async def clients(session: AsyncSession, scope: Scope):
    """The clients with their manager, department, ABC class, churn flag, and sales in the
    ABC window (what the shares of sales are measured on)."""
    return await read_frame(
        session,
        "SELECT c.id AS client_id, c.legal_name, c.currency, c.sales_manager_id AS manager_id, "
        "t.department, c.industry, s.abc_revenue, coalesce(s.churn_raised, false) AS "
        "churn_raised, coalesce((s.metrics->>'abc_revenue_minor')::bigint, 0) AS revenue_minor "
        "FROM clients c LEFT JOIN client_segments s ON s.client_id = c.id "
        "LEFT JOIN sales_team t ON t.manager_id = c.sales_manager_id WHERE true"
        + scope.clients("c.id")
        + scope.money("c.currency"),
        CLIENTS_SCHEMA,
    )


async def pipeline(session: AsyncSession, scope: Scope):
    return await read_frame(
        session,
        "SELECT p.client_id, p.to_stage, p.position, p.changed_at, "
        "first_value(p.source) OVER (PARTITION BY p.client_id ORDER BY p.source IS NULL, "
        "p.changed_at) AS source, c.sales_manager_id::text AS manager, "
        "s.abc_revenue AS segment FROM pipeline_changes p "
        "LEFT JOIN clients c ON c.id = p.client_id "
        "LEFT JOIN client_segments s ON s.client_id = p.client_id WHERE true"
        + scope.clients("p.client_id"),
        {
            "client_id": pl.String,
            "to_stage": pl.String,
            "position": pl.Int64,
            "changed_at": UTC_TS,
            "source": pl.String,
            "manager": pl.String,
            "segment": pl.String,
        },
    )


async def first_orders(session: AsyncSession, scope: Scope):
    return await read_frame(
        session,
        "SELECT client_id, min(placed_at) AS first_order_at FROM order_facts WHERE counted"
        + scope.clients()
        + " GROUP BY client_id",
        {"client_id": pl.String, "first_order_at": UTC_TS},
    )


async def balance(session: AsyncSession, scope: Scope) -> int:
    found = await session.scalar(
        text(
            "SELECT coalesce(sum(balance_minor), 0) FROM clients WHERE true"
            + scope.clients("id")
            + scope.money()
        )
    )
    return int(found or 0)


async def marks(session: AsyncSession) -> pl.DataFrame:
    rows = (await session.execute(select(KeyAccountMark.client_id, KeyAccountMark.criteria))).all()
    return pl.DataFrame(
        {"client_id": [str(r[0]) for r in rows], "criteria": [list(r[1]) for r in rows]},
        schema={"client_id": pl.String, "criteria": pl.List(pl.String)},
    )


async def set_mark(
    session: AsyncSession, client_id: uuid.UUID, criteria: list[str], note: str | None, by: str
) -> None:
    if not criteria:
        await session.execute(
            text("DELETE FROM key_account_marks WHERE client_id = :c"), {"c": client_id}
        )
        return
    stmt = insert(KeyAccountMark).values(
        client_id=client_id, criteria=criteria, note=note, set_by=by
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[KeyAccountMark.client_id],
            set_={"criteria": criteria, "note": note, "set_by": by, "updated_at": utcnow()},
        )
    )


async def plans(session: AsyncSession, scope: Scope, first: date, last: date) -> pl.DataFrame:
    stmt = select(ManagerPlan.manager_id, ManagerPlan.plan_minor).where(
        ManagerPlan.month >= first, ManagerPlan.month <= last
    )
    if scope.currency:
        stmt = stmt.where(ManagerPlan.currency == scope.currency)
    if scope.manager_id:
        stmt = stmt.where(ManagerPlan.manager_id == scope.manager_id)
    rows = (await session.execute(stmt)).all()
    return pl.DataFrame(
        {"manager_id": [str(r[0]) for r in rows], "plan_minor": [r[1] for r in rows]},
        schema={"manager_id": pl.String, "plan_minor": pl.Int64},
    )


async def upsert(session: AsyncSession, model: Any, keys: list[str], values: dict) -> None:
    stmt = insert(model).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=keys,
            set_={k: stmt.excluded[k] for k in values if k not in keys},
        )
    )


async def set_plan(session: AsyncSession, values: dict) -> None:
    await upsert(session, ManagerPlan, ["manager_id", "month"], values)


async def set_team_member(session: AsyncSession, values: dict) -> None:
    await upsert(session, SalesTeamMember, ["manager_id"], values)


async def set_spend(session: AsyncSession, values: dict) -> None:
    await upsert(session, SalesSpend, ["month", "currency", "kind"], values)


async def spend(session: AsyncSession, currency: str, first: date, last: date) -> pl.DataFrame:
    rows = (
        await session.execute(
            select(SalesSpend.month, SalesSpend.kind, SalesSpend.amount_minor).where(
                SalesSpend.currency == currency,
                SalesSpend.month >= first,
                SalesSpend.month <= last,
            )
        )
    ).all()
    return pl.DataFrame(
        {
            "month": [r[0].strftime("%Y-%m") for r in rows],
            "kind": [r[1] for r in rows],
            "amount_minor": [r[2] for r in rows],
        },
        schema={"month": pl.String, "kind": pl.String, "amount_minor": pl.Int64},
    )


async def add_offers(session: AsyncSession, rows: list[dict]) -> None:
    await session.execute(insert(UpsellOffer), rows)


async def crr_trend(session: AsyncSession, currency: str) -> list[Any]:
    stats = await session.scalar(
        text("SELECT stats->'summary'->'retention' FROM base_stats WHERE currency = :c"),
        {"c": currency},
    )
    return list(stats or [])


async def team_names(session: AsyncSession) -> dict[str, dict[str, str | None]]:
    rows = await session.execute(
        select(SalesTeamMember.manager_id, SalesTeamMember.name, SalesTeamMember.department)
    )
    return {str(m): {"name": n, "department": d} for m, n, d in rows.all()}
