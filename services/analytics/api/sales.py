"""Sales analytics under /sales: the pipeline and the four funnels, repeat deals with add-ons
taken out, co-purchases, key accounts and concentration, the team's performance and plans,
loss reasons and win-back, the retention payoff.

A sales manager sees only the clients assigned to them (and only their own row of the team);
the head of sales and admins see everyone. Money figures are in one currency (`currency`)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Literal

import polars as pl
from fastapi import APIRouter, Path, Query, Request

from services.analytics.api.plans import first_day
from services.analytics.api.sales_schemas import (
    CoPurchase,
    Funnels,
    KeyAccountMarkWrite,
    KeyAccountsRead,
    LossReasons,
    ManagerPlanWrite,
    OffersShown,
    PipelineGroup,
    RepeatDeals,
    Retention,
    SpendWrite,
    TeamMemberWrite,
    TeamResult,
    WinBackTask,
)
from services.analytics.api.sales_window import From, MoneyWindow, To, Window, period, scope_of
from services.analytics.domain import sales as rules
from services.analytics.settings import Settings
from services.analytics.store import sales as store
from services.analytics.store.queries import CLIENTS
from shared.auth import Role, allow
from shared.clock import utcnow
from shared.db import SessionDep
from shared.fields import (
    MAX_COUNT,
    MONTH,
    CurrencyCode,
)

router = APIRouter(prefix="/sales", tags=["sales"])
SALES = (Role.SALES_MANAGER, Role.HEAD_OF_SALES, Role.ADMIN)
HEADS = (Role.HEAD_OF_SALES, Role.ADMIN)


def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _deals(request: Request, session: SessionDep, w: Window) -> pl.DataFrame:
    """The orders up to the period's end marked into deals, over the history window so that a
    repeat deal is known as one."""
    d = _settings(request)
    since = w.until - timedelta(days=d.history_months * 31)
    return rules.mark_deals(
        await store.orders(session, w.scope, since, w.until), d.addon_window_days
    )


@router.get(
    "/pipeline",
    summary="Conversion and days between the pipeline's stages",
    response_model_exclude_unset=True,  # the last stage has no next one: its fields are left out
)
async def pipeline(
    session: SessionDep,
    principal: allow(*SALES),
    by: Literal["all", "source", "manager", "segment"] = "all",
) -> list[PipelineGroup]:
    changes = await store.pipeline(session, scope_of(principal))
    return rules.pipeline_conversion(changes, None if by == "all" else by)


@router.get("/funnels", summary="Client, financial, unit and upsell conversion")
async def funnels(
    request: Request,
    session: SessionDep,
    principal: allow(*SALES),
    w: MoneyWindow,
) -> Funnels:
    scope, since, until = w.scope, w.since, w.until
    changes = await store.pipeline(session, scope)
    leads = (
        changes.group_by("client_id")
        .agg(entered_at=pl.col("changed_at").min())
        .filter(pl.col("entered_at").is_between(since, until, closed="left"))
    )
    orders = await store.orders(session, scope, since, until)
    lines = await store.lines(session, scope, since, until)
    return {
        "client": rules.client_conversion(leads, await store.first_orders(session, scope)),
        "financial": rules.financial_funnel(
            await store.quotes(session, scope, since, until),
            orders,
            await store.balance(session, scope),
        ),
        "unit": rules.unit_funnel(await store.quote_lines(session, scope, since, until), lines),
        "upsell": rules.upsell_funnel(
            await store.offers(session, scope, since, until),
            lines.select("client_id", "sku", "placed_at"),
            _settings(request).offer_accept_days,
        ),
        "notes": "Carts are not known to analytics (orders publishes no cart events): the unit "
        "funnel starts at quotes. Paid = delivered less the balance ERP reports owed.",
    }


@router.get("/repeat-deals", summary="Repeat deals with add-ons taken out")
async def repeat_deals(
    request: Request,
    session: SessionDep,
    principal: allow(*SALES),
    w: MoneyWindow,
) -> RepeatDeals:
    lines = await store.lines(session, w.scope, w.since, w.until)
    figures = rules.repeat_figures(await _deals(request, session, w), lines, w.since, w.until)
    return {"window_days": _settings(request).addon_window_days, **figures}


@router.get("/co-purchases", summary="SKUs or categories bought together, per segment")
async def co_purchases(
    request: Request,
    session: SessionDep,
    principal: allow(*SALES),
    w: MoneyWindow,
    level: Literal["sku", "category"] = "sku",
    segment: Literal["none", "abc_revenue", "industry"] = "abc_revenue",
    min_together: Annotated[int, Query(ge=1, le=MAX_COUNT)] = 2,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[CoPurchase]:
    marked = await _deals(request, session, w)
    clients = await store.clients(session, w.scope)
    lines = (
        (await store.lines(session, w.scope, w.since, w.until))
        .join(marked.select("order_id", "deal_id"), on="order_id")
        .join(clients.select("client_id", "abc_revenue", "industry"), on="client_id", how="left")
        .with_columns(
            segment=pl.lit("all") if segment == "none" else pl.col(segment).fill_null("none")
        )
    )
    return rules.co_purchases(lines, level, min_together, limit).to_dicts()


@router.get("/key-accounts", summary="Key clients by share of sales or a manager's criteria")
async def key_accounts(
    request: Request,
    session: SessionDep,
    principal: allow(*SALES),
    level: Literal["company", "department", "manager"] = "company",
) -> KeyAccountsRead:
    d = _settings(request)
    # Shares are of the whole level's sales, then narrowed to what the caller may see.
    everyone = await store.clients(session, store.Scope(None))
    clients, managers = rules.key_accounts(
        everyone,
        await store.marks(session),
        level=level,
        threshold=d.key_client_share,
        per_manager=d.key_accounts_per_manager,
    )
    scope = scope_of(principal)
    if scope.manager_id is not None:
        mine = str(scope.manager_id)
        clients = clients.filter(pl.col("manager_id") == mine)
        managers = managers.filter(pl.col("manager_id") == mine)
    return KeyAccountsRead(
        level=level,
        threshold=d.key_client_share,
        clients=clients.select(
            "client_id",
            "legal_name",
            "currency",
            "manager_id",
            "department",
            "revenue_minor",
            pl.col("share").round(4),
            "key_by_share",
            "criteria",
        ).to_dicts(),
        managers=managers.to_dicts(),
    )


@router.put(
    "/key-accounts/{client_id}",
    summary="Mark a client key by a manager's criteria",
    responses={
        404: {"description": "A client accounts does not have, or not assigned to the manager"}
    },
)
async def mark_key_account(
    client_id: uuid.UUID,
    body: KeyAccountMarkWrite,
    request: Request,
    session: SessionDep,
    principal: allow(*SALES),
) -> KeyAccountMarkWrite:
    await CLIENTS.ensure_known(
        session, principal, request.app.state.upstreams, {client_id: "client_id"}
    )
    await store.set_mark(
        session, client_id, sorted(set(body.criteria)), body.note, str(principal.subject)
    )
    return body


@router.get("/team", summary="Each manager's results in the period, plan versus fact")
async def team(
    request: Request,
    session: SessionDep,
    principal: allow(*SALES),
    w: MoneyWindow,
) -> list[TeamResult]:
    scope, since, until = w.scope, w.since, w.until
    marked = await _deals(request, session, w)
    first_month = since.date().replace(day=1)
    rows = rules.team_performance(
        marked,
        await store.clients(session, scope),
        await store.quotes(session, scope, since, until),
        await store.plans(session, scope, first_month, (until - timedelta(days=1)).date()),
        since,
        until,
    )
    names = await store.team_names(session)
    return [{**names.get(r["manager_id"], {"name": None, "department": None}), **r} for r in rows]


@router.put("/team/{manager_id}", summary="A sales manager's name and department")
async def put_team_member(
    manager_id: uuid.UUID, body: TeamMemberWrite, session: SessionDep, principal: allow(*HEADS)
) -> TeamMemberWrite:
    await store.set_team_member(
        session, {"manager_id": manager_id, "name": body.name, "department": body.department}
    )
    return body


@router.put("/plans/{manager_id}/{month}", summary="A sales manager's plan for a month")
async def put_manager_plan(
    manager_id: uuid.UUID,
    month: Annotated[str, Path(pattern=MONTH, description="YYYY-MM")],
    body: ManagerPlanWrite,
    session: SessionDep,
    principal: allow(*HEADS),
) -> ManagerPlanWrite:
    await store.set_plan(
        session,
        {
            "manager_id": manager_id,
            "month": first_day(month),
            "currency": body.currency,
            "plan_minor": body.plan_minor,
            "set_by": str(principal.subject),
        },
    )
    return body


@router.get("/churn-reasons", summary="Why clients cancel, return, complain and leave")
async def churn_reasons(
    session: SessionDep,
    principal: allow(*SALES),
    start: From = None,
    end: To = None,
    by: Literal["segment", "manager"] = "segment",
) -> list[LossReasons]:
    since, until = period(start, end)
    return rules.loss_reasons(
        await store.loss_reasons(session, scope_of(principal), since, until), by
    )


@router.get("/win-back", summary="Key clients at risk of leaving: a task for their manager")
async def win_back(
    request: Request, session: SessionDep, principal: allow(*SALES)
) -> list[WinBackTask]:
    d = _settings(request)
    everyone = await store.clients(session, store.Scope(None))
    key, _ = rules.key_accounts(
        everyone,
        await store.marks(session),
        level="company",
        threshold=d.key_client_share,
        per_manager=d.key_accounts_per_manager,
    )
    tasks = key.filter(pl.col("churn_raised"))
    scope = scope_of(principal)
    if scope.manager_id is not None:
        tasks = tasks.filter(pl.col("manager_id") == str(scope.manager_id))
    return tasks.select(
        "client_id",
        "legal_name",
        "manager_id",
        pl.col("share").round(4),
        "criteria",
        task=pl.lit("win the client back: call, find out why, make an offer"),
    ).to_dicts()


@router.get("/retention", summary="Spend on keeping clients against winning them, and CRR")
async def retention(
    request: Request,
    session: SessionDep,
    principal: allow(*HEADS),
    w: MoneyWindow,
) -> Retention:
    currency = w.scope.currency or ""
    last = (w.until - timedelta(days=1)).date()
    return {
        "months": rules.retention_payoff(
            await _deals(request, session, w),
            await store.lines(session, w.scope, w.since, w.until),
            await store.spend(session, currency, w.since.date().replace(day=1), last),
        ),
        "crr": await store.crr_trend(session, currency),
    }


@router.put("/spend/{month}/{currency}/{kind}", summary="Money spent in a month on clients")
async def put_spend(
    month: Annotated[str, Path(pattern=MONTH, description="YYYY-MM")],
    currency: Annotated[CurrencyCode, Path()],
    kind: Literal["acquisition", "loyalty_bonus", "retro_bonus"],
    body: SpendWrite,
    session: SessionDep,
    principal: allow(*HEADS),
) -> SpendWrite:
    await store.set_spend(
        session,
        {
            "month": first_day(month),
            "currency": currency,
            "kind": kind,
            "amount_minor": body.amount_minor,
            "set_by": str(principal.subject),
        },
    )
    return body


@router.post(
    "/offers",
    status_code=201,
    summary="Record upsell or cross-sell offers shown",
    responses={
        404: {
            "description": "A client accounts does not have, or not assigned to the sales "
            "manager: none recorded; `errors` names the first such offer"
        }
    },
)
async def offers_shown(
    body: OffersShown,
    request: Request,
    session: SessionDep,
    principal: allow(*SALES, Role.SYSTEM),
) -> dict[str, int]:
    now = utcnow()
    fields: dict[uuid.UUID, str] = {}
    for i, offer in enumerate(body.offers):
        fields.setdefault(offer.client_id, f"offers[{i}].client_id")
    await CLIENTS.ensure_known(session, principal, request.app.state.upstreams, fields)
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
            for o in body.offers
        ],
    )
    return {"recorded": len(body.offers)}
