"""The sales views' flows: the facts of a window read from the store, measured by the rules
of the domain (`deals.py`, `funnels.py`, `sales.py`), narrowed to what the caller reaches;
and the sales team's own writes.

A money view's question (`Window`) is whose clients (a sales manager its own), in which
currency, over which period."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.domain import deals
from services.analytics.domain import funnels as conversion
from services.analytics.domain import sales as team_rules
from services.analytics.domain.measures import ordinal
from services.analytics.settings import Settings
from services.analytics.store import sales as store
from services.analytics.store.queries import CLIENTS
from shared.auth import Principal
from shared.clock import utcnow
from shared.pagination import PageParams, page_of
from shared.upstream import Upstreams

FUNNEL_NOTES = (
    "Carts are not known to analytics (orders publishes no cart events): the unit "
    "funnel starts at quotes. Paid = delivered less the balance ERP reports owed."
)
WIN_BACK_TASK = "win the client back: call, find out why, make an offer"


@dataclass(frozen=True)
class Window:
    """A money view's question: whose clients, in which currency, over which period."""

    scope: store.Scope
    since: datetime
    until: datetime


async def _deals(session: AsyncSession, settings: Settings, w: Window) -> pl.DataFrame:
    """The orders up to the period's end marked into deals, over the history window so that a
    repeat deal is known as one."""
    since = w.until - timedelta(days=settings.history_months * 31)
    orders = await store.ORDERS.read(session, w.scope, since, w.until)
    return deals.mark_deals(orders, settings.addon_window_days)


def _mine(frame: pl.DataFrame, scope: store.Scope) -> pl.DataFrame:
    """The rows of the caller's clients: a sales manager's own, everyone's for the others."""
    if scope.manager_id is None:
        return frame
    return frame.filter(pl.col("manager_id") == str(scope.manager_id))


async def _key_accounts(
    session: AsyncSession, settings: Settings, level: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Key clients and managers of the whole level: shares are of all its sales, whoever asks."""
    return team_rules.key_accounts(
        await store.clients(session, store.Scope(None)),
        await store.marks(session),
        level=level,
        threshold=settings.key_client_share,
        per_manager=settings.key_accounts_per_manager,
    )


async def pipeline(session: AsyncSession, scope: store.Scope, by: str) -> list[dict[str, Any]]:
    changes = await store.pipeline(session, scope)
    return conversion.pipeline_conversion(changes, None if by == "all" else by)


async def funnels(session: AsyncSession, settings: Settings, w: Window) -> dict[str, Any]:
    """Client, financial, unit and upsell conversion of the period."""
    scope, since, until = w.scope, w.since, w.until
    changes = await store.pipeline(session, scope)
    leads = (
        changes.group_by("client_id")
        .agg(entered_at=pl.col("changed_at").min())
        .filter(pl.col("entered_at").is_between(since, until, closed="left"))
    )
    orders = await store.ORDERS.read(session, scope, since, until)
    lines = await store.LINES.read(session, scope, since, until)
    return {
        "client": conversion.client_conversion(leads, await store.first_orders(session, scope)),
        "financial": conversion.financial_funnel(
            await store.QUOTES.read(session, scope, since, until),
            orders,
            await store.balance(session, scope),
        ),
        "unit": conversion.unit_funnel(
            await store.QUOTE_LINES.read(session, scope, since, until), lines
        ),
        "upsell": conversion.upsell_funnel(
            await store.OFFERS.read(session, scope, since, until),
            lines.select("client_id", "sku", "placed_at"),
            settings.offer_accept_days,
        ),
        "notes": FUNNEL_NOTES,
    }


async def repeat_deals(session: AsyncSession, settings: Settings, w: Window) -> dict[str, Any]:
    lines = await store.LINES.read(session, w.scope, w.since, w.until)
    figures = deals.repeat_figures(await _deals(session, settings, w), lines, w.since, w.until)
    return {"window_days": settings.addon_window_days, **figures}


async def co_purchases(
    session: AsyncSession,
    settings: Settings,
    w: Window,
    *,
    level: str,
    segment: str,
    min_together: int,
    limit: int,
) -> list[dict[str, Any]]:
    """Pairs bought together in a deal, per segment (`none`: one segment of everyone)."""
    marked = await _deals(session, settings, w)
    clients = await store.clients(session, w.scope)
    lines = (
        (await store.LINES.read(session, w.scope, w.since, w.until))
        .join(marked.select("order_id", "deal_id"), on="order_id")
        .join(clients.select("client_id", "abc_revenue", "industry"), on="client_id", how="left")
        .with_columns(
            segment=pl.lit("all") if segment == "none" else pl.col(segment).fill_null("none")
        )
    )
    return deals.co_purchases(lines, level, min_together, limit).to_dicts()


async def key_accounts(
    session: AsyncSession, settings: Settings, scope: store.Scope, level: str
) -> dict[str, Any]:
    clients, managers = await _key_accounts(session, settings, level)
    return {
        "level": level,
        "threshold": settings.key_client_share,
        "clients": _mine(clients, scope)
        .select(
            "client_id",
            "legal_name",
            "currency",
            "manager_id",
            "department",
            "revenue_minor",
            pl.col("share").round(4),
            "key_by_share",
            "criteria",
        )
        .to_dicts(),
        "managers": _mine(managers, scope).to_dicts(),
    }


async def win_back(
    session: AsyncSession, settings: Settings, scope: store.Scope, page: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    """Key clients (of the company) whose churn risk is raised: a task for their manager."""
    key, _ = await _key_accounts(session, settings, "company")
    tasks = (
        _mine(key.filter(pl.col("churn_raised")), scope)
        .select(
            "client_id",
            "legal_name",
            "manager_id",
            pl.col("share").round(4),
            "criteria",
            task=pl.lit(WIN_BACK_TASK),
            exact_share="share",  # their order, which the rounded share may not tell
        )
        .to_dicts()
    )
    found, cursor = page_of(tasks, _largest_share_first, page)
    return [{k: v for k, v in t.items() if k != "exact_share"} for t in found], cursor


def _largest_share_first(task: dict[str, Any]) -> tuple[int | str, ...]:
    """The key accounts' order (share descending, none last, then client id) as a key."""
    share = task["exact_share"]
    return (int(share is None), -ordinal(share or 0.0), task["client_id"])


async def team(session: AsyncSession, settings: Settings, w: Window) -> list[dict[str, Any]]:
    """Each manager's results in the period, plan versus fact, with its name and department."""
    scope, since, until = w.scope, w.since, w.until
    rows = team_rules.team_performance(
        await _deals(session, settings, w),
        await store.clients(session, scope),
        await store.QUOTES.read(session, scope, since, until),
        await store.plans(session, scope, since.date().replace(day=1), _last_day(w)),
        since,
        until,
    )
    names = await store.team_names(session)
    return [{**names.get(r["manager_id"], {"name": None, "department": None}), **r} for r in rows]


async def loss_reasons(
    session: AsyncSession, scope: store.Scope, since: datetime, until: datetime, by: str
) -> list[dict[str, Any]]:
    return team_rules.loss_reasons(await store.LOSS_REASONS.read(session, scope, since, until), by)


async def retention(session: AsyncSession, settings: Settings, w: Window) -> dict[str, Any]:
    """Spend on keeping clients against winning them, month by month, and the CRR trend."""
    currency = w.scope.currency or ""
    first = w.since.date().replace(day=1)
    return {
        "months": deals.retention_payoff(
            await _deals(session, settings, w),
            await store.LINES.read(session, w.scope, w.since, w.until),
            await store.spend(session, currency, first, _last_day(w)),
        ),
        "crr": await store.crr_trend(session, currency),
    }


def _last_day(w: Window) -> date:
    return (w.until - timedelta(days=1)).date()


# The sales team's writes ----------------------------------------------------------------------


async def mark_key_account(
    session: AsyncSession,
    principal: Principal,
    upstreams: Upstreams,
    client_id: uuid.UUID,
    criteria: list[str],
    note: str | None,
) -> None:
    """A client the caller reaches and accounts has, marked key by the manager's criteria."""
    await CLIENTS.ensure_known(session, principal, upstreams, {client_id: "client_id"})
    await store.set_mark(session, client_id, sorted(set(criteria)), note, str(principal.subject))


async def set_team_member(
    session: AsyncSession, manager_id: uuid.UUID, name: str, department: str | None
) -> None:
    await store.set_team_member(
        session, {"manager_id": manager_id, "name": name, "department": department}
    )


async def set_manager_plan(
    session: AsyncSession,
    principal: Principal,
    manager_id: uuid.UUID,
    month: date,
    currency: str,
    plan_minor: int,
) -> None:
    values = {"manager_id": manager_id, "month": month, "currency": currency}
    await store.set_plan(
        session, {**values, "plan_minor": plan_minor, "set_by": str(principal.subject)}
    )


async def set_spend(
    session: AsyncSession,
    principal: Principal,
    month: date,
    currency: str,
    kind: str,
    amount_minor: int,
) -> None:
    values = {"month": month, "currency": currency, "kind": kind, "amount_minor": amount_minor}
    await store.set_spend(session, {**values, "set_by": str(principal.subject)})


async def record_offers(
    session: AsyncSession, principal: Principal, upstreams: Upstreams, offers: list[Any]
) -> int:
    """Offers shown, all or none: every client must be one the caller reaches and accounts
    has; the first that is not is named (`offers[i].client_id`)."""
    fields: dict[uuid.UUID, str] = {}
    for i, offer in enumerate(offers):
        fields.setdefault(offer.client_id, f"offers[{i}].client_id")
    await CLIENTS.ensure_known(session, principal, upstreams, fields)
    now = utcnow()
    await store.add_offers(
        session,
        [
            {
                "id": uuid.uuid4(),
                "client_id": o.client_id,
                "kind": o.kind,
                "sku": o.sku,
                "instead_of_sku": o.instead_of_sku,
                "shown_at": o.shown_at or now,
                "shown_by": str(principal.subject),
            }
            for o in offers
        ],
    )
    return len(offers)
