"""Sales analytics under /sales: the pipeline and the four funnels, repeat deals with add-ons
taken out, co-purchases, key accounts and concentration, the team's performance and plans,
loss reasons and win-back, the retention payoff.

A sales manager sees only the clients assigned to them (and only their own row of the team);
the head of sales and admins see everyone. Money figures are in one currency (`currency`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from services.analytics.api.deps import SettingsDep, UpstreamsDep
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
from services.analytics.domain.periods import first_day
from services.analytics.usecases import sales as usecase
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.fields import MAX_COUNT, MONTH, CurrencyCode

router = APIRouter(prefix="/sales", tags=["sales"])
SALES = (Role.SALES_MANAGER, Role.HEAD_OF_SALES, Role.ADMIN)
HEADS = (Role.HEAD_OF_SALES, Role.ADMIN)


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
    return await usecase.pipeline(session, scope_of(principal), by)


@router.get("/funnels", summary="Client, financial, unit and upsell conversion")
async def funnels(principal: allow(*SALES), q: MoneyQuestion) -> Funnels:
    return await usecase.funnels(q.session, q.settings, q.window)


@router.get("/repeat-deals", summary="Repeat deals with add-ons taken out")
async def repeat_deals(principal: allow(*SALES), q: MoneyQuestion) -> RepeatDeals:
    return await usecase.repeat_deals(q.session, q.settings, q.window)


@router.get("/co-purchases", summary="SKUs or categories bought together, per segment")
async def co_purchases(
    principal: allow(*SALES),
    q: MoneyQuestion,
    level: Literal["sku", "category"] = "sku",
    segment: Literal["none", "abc_revenue", "industry"] = "abc_revenue",
    min_together: Annotated[int, Query(ge=1, le=MAX_COUNT)] = 2,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[CoPurchase]:
    return await usecase.co_purchases(
        q.session,
        q.settings,
        q.window,
        level=level,
        segment=segment,
        min_together=min_together,
        limit=limit,
    )


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


@router.get("/team", summary="Each manager's results in the period, plan versus fact")
async def team(principal: allow(*SALES), q: MoneyQuestion) -> list[TeamResult]:
    return await usecase.team(q.session, q.settings, q.window)


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


@router.get("/churn-reasons", summary="Why clients cancel, return, complain and leave")
async def churn_reasons(
    session: SessionDep,
    principal: allow(*SALES),
    start: From = None,
    end: To = None,
    by: Literal["segment", "manager"] = "segment",
) -> list[LossReasons]:
    since, until = period(start, end)
    return await usecase.loss_reasons(session, scope_of(principal), since, until, by)


@router.get("/win-back", summary="Key clients at risk of leaving: a task for their manager")
async def win_back(
    settings: SettingsDep, session: SessionDep, principal: allow(*SALES)
) -> list[WinBackTask]:
    return await usecase.win_back(session, settings, scope_of(principal))


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
