"""Sales analytics under /sales: the pipeline and the four funnels, repeat deals with add-ons
taken out, co-purchases, key accounts and concentration, the team's performance and plans,
loss reasons and win-back, the retention payoff.

A sales manager sees only the clients assigned to them (and only their own row of the team);
the head of sales and admins see everyone. Money figures are in one currency (`currency`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from services.analytics.api.deps import ReportPageDep, SettingsDep, UpstreamsDep, sized
from services.analytics.api.responses import UNASSIGNED_CLIENT
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
from services.analytics.api.sales_window import From, MoneyQuestion, To, period, scope_of
from services.analytics.domain.measures import ordinal
from services.analytics.domain.periods import first_day
from services.analytics.usecases import sales as usecase
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.fields import MAX_COUNT, MONTH, CurrencyCode
from shared.pagination import Page, PageDep, page_of

router = APIRouter(prefix="/sales", tags=["sales"])
pages = APIRouter(prefix="/sales", tags=["sales"])
SALES = (Role.SALES_MANAGER, Role.HEAD_OF_SALES, Role.ADMIN)
HEADS = (Role.HEAD_OF_SALES, Role.ADMIN)


@pages.get("/pipeline", summary="Conversion and days between the pipeline's stages, by group")
async def pipeline(
    session: SessionDep,
    principal: allow(*SALES),
    page: PageDep,
    by: Literal["all", "source", "manager", "segment"] = "all",
) -> Page[PipelineGroup]:
    groups = await usecase.pipeline(session, scope_of(principal), by)
    return Page.of(page_of(groups, lambda g: (g["group"],), page), PipelineGroup.model_validate)


@router.get("/funnels", summary="Client, financial, unit and upsell conversion")
async def funnels(principal: allow(*SALES), q: MoneyQuestion) -> Funnels:
    return await usecase.funnels(q.session, q.settings, q.window)


@router.get("/repeat-deals", summary="Repeat deals with add-ons taken out")
async def repeat_deals(principal: allow(*SALES), q: MoneyQuestion) -> RepeatDeals:
    return await usecase.repeat_deals(q.session, q.settings, q.window)


@pages.get(
    "/co-purchases",
    summary="SKUs or categories bought together, per segment",
    description="By segment, then the most deals together, the highest lift, `a` and `b`. "
    "`limit` is how many pairs of each segment the report holds; version 2 pages the report "
    "`limit` pairs at a time (the page's own `limit`), so its pages together are version 1's "
    "answer.",
)
async def co_purchases(
    principal: allow(*SALES),
    q: MoneyQuestion,
    page: ReportPageDep,
    level: Literal["sku", "category"] = "sku",
    segment: Literal["none", "abc_revenue", "industry"] = "abc_revenue",
    min_together: Annotated[int, Query(ge=1, le=MAX_COUNT)] = 2,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Page[CoPurchase]:
    pairs = await usecase.co_purchases(
        q.session,
        q.settings,
        q.window,
        level=level,
        segment=segment,
        min_together=min_together,
        limit=limit,
    )
    return Page.of(
        page_of(pairs, _most_together_first, sized(page, limit)), CoPurchase.model_validate
    )


def _most_together_first(pair: dict[str, Any]) -> tuple[int | str, ...]:
    """The report's order (deals.co_purchases) as a key."""
    together, lift = pair["together"], ordinal(pair["lift"])
    return (pair["segment"], -together, -lift, pair["a"], pair["b"])


@router.get("/key-accounts", summary="Key clients by share of sales or a manager's criteria")
async def key_accounts(
    settings: SettingsDep,
    session: SessionDep,
    principal: allow(*SALES),
    level: Literal["company", "department", "manager"] = "company",
) -> KeyAccountsRead:
    found = await usecase.key_accounts(session, settings, scope_of(principal), level)
    return KeyAccountsRead(**found)


@router.put(
    "/key-accounts/{client_id}",
    summary="Mark a client key by a manager's criteria",
    responses=UNASSIGNED_CLIENT,
)
async def mark_key_account(
    client_id: uuid.UUID,
    body: KeyAccountMarkWrite,
    upstreams: UpstreamsDep,
    session: SessionDep,
    principal: allow(*SALES),
) -> KeyAccountMarkWrite:
    await usecase.mark_key_account(
        session, principal, upstreams, client_id, body.criteria, body.note
    )
    return body


@pages.get("/team", summary="Each manager's results in the period, plan versus fact, by manager")
async def team(principal: allow(*SALES), q: MoneyQuestion, page: PageDep) -> Page[TeamResult]:
    rows = await usecase.team(q.session, q.settings, q.window)
    return Page.of(page_of(rows, lambda r: (r["manager_id"],), page), TeamResult.model_validate)


@router.put("/team/{manager_id}", summary="A sales manager's name and department")
async def put_team_member(
    manager_id: uuid.UUID, body: TeamMemberWrite, session: SessionDep, principal: allow(*HEADS)
) -> TeamMemberWrite:
    await usecase.set_team_member(session, manager_id, body.name, body.department)
    return body


@router.put("/plans/{manager_id}/{month}", summary="A sales manager's plan for a month")
async def put_manager_plan(
    manager_id: uuid.UUID,
    month: Annotated[str, Path(pattern=MONTH, description="YYYY-MM")],
    body: ManagerPlanWrite,
    session: SessionDep,
    principal: allow(*HEADS),
) -> ManagerPlanWrite:
    await usecase.set_manager_plan(
        session, principal, manager_id, first_day(month), body.currency, body.plan_minor
    )
    return body


@pages.get(
    "/churn-reasons",
    summary="Why clients cancel, return, complain and leave, by group then the most frequent",
)
async def churn_reasons(
    session: SessionDep,
    principal: allow(*SALES),
    page: PageDep,
    start: From = None,
    end: To = None,
    by: Literal["segment", "manager"] = "segment",
) -> Page[LossReasons]:
    since, until = period(start, end)
    rows = await usecase.loss_reasons(session, scope_of(principal), since, until, by)
    return Page.of(page_of(rows, _most_frequent_first, page), LossReasons.model_validate)


def _most_frequent_first(reason: dict[str, Any]) -> tuple[int | str, ...]:
    """The report's order (domain.sales.loss_reasons) as a key."""
    return (reason["group"], -reason["count"], reason["reason_code"])


@pages.get(
    "/win-back",
    summary="Key clients at risk of leaving, the largest share first: a task for their manager",
)
async def win_back(
    settings: SettingsDep, session: SessionDep, principal: allow(*SALES), page: PageDep
) -> Page[WinBackTask]:
    found = await usecase.win_back(session, settings, scope_of(principal), page)
    return Page.of(found, WinBackTask.model_validate)


@router.get("/retention", summary="Spend on keeping clients against winning them, and CRR")
async def retention(principal: allow(*HEADS), q: MoneyQuestion) -> Retention:
    return await usecase.retention(q.session, q.settings, q.window)


@router.put("/spend/{month}/{currency}/{kind}", summary="Money spent in a month on clients")
async def put_spend(
    month: Annotated[str, Path(pattern=MONTH, description="YYYY-MM")],
    currency: Annotated[CurrencyCode, Path()],
    kind: Literal["acquisition", "loyalty_bonus", "retro_bonus"],
    body: SpendWrite,
    session: SessionDep,
    principal: allow(*HEADS),
) -> SpendWrite:
    await usecase.set_spend(session, principal, first_day(month), currency, kind, body.amount_minor)
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
    upstreams: UpstreamsDep,
    session: SessionDep,
    principal: allow(*SALES, Role.SYSTEM),
) -> dict[str, int]:
    recorded = await usecase.record_offers(session, principal, upstreams, body.offers)
    return {"recorded": recorded}
