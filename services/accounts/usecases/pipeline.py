"""The sales pipeline: its configurable stages, and a company's stage and source (a lead is a
company before its first order). Managers move companies by hand; quotes and orders move them
forward by themselves (`events.py`). Every move is an event analytics counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.domain.pipeline import Stage, check_stages, milestone_of_order, stage_reached
from services.accounts.store import pipeline as store
from services.accounts.store.models import Company, CompanyPipeline, StageChange
from services.accounts.usecases.access import visible_company
from shared.auth import Principal
from shared.clock import utcnow
from shared.pagination import PageParams, page_of
from shared.problems import FieldError, Unprocessable


@dataclass(frozen=True)
class Standing:
    """Where a company stands in the pipeline, and every move that brought it there."""

    company_id: uuid.UUID
    source: str | None
    stage: str | None
    stage_since: datetime | None
    orders_placed: int
    history: list[StageChange]


async def stages(session: AsyncSession, page: PageParams) -> tuple[list[Stage], str | None]:
    return page_of(await store.stages(session), lambda s: (s.position,), page)


async def replace_stages(session: AsyncSession, wanted: list[Stage]) -> list[Stage]:
    """Every bad row is named and nothing changes; a stage companies stand in stays."""
    errors = check_stages(wanted)
    if errors:
        raise Unprocessable("The pipeline is not valid.", errors=errors)
    await store.replace_stages(session, wanted)
    return wanted


async def _standing(session: AsyncSession, company_id: uuid.UUID) -> Standing:
    row = await store.standing(session, company_id)
    history = await store.history(session, company_id)
    return Standing(company_id, row.source, row.stage, row.stage_since, row.orders_placed, history)


async def standing(session: AsyncSession, principal: Principal, company_id: uuid.UUID) -> Standing:
    await visible_company(session, principal, company_id)
    return await _standing(session, company_id)


async def set_standing(
    session: AsyncSession,
    principal: Principal,
    company_id: uuid.UUID,
    stage: str | None,
    source: str | None = None,
    *,
    sets_source: bool = False,
) -> Standing:
    """Set the lead's source (when `sets_source`) and/or move it to `stage`; a company given
    a source and no stage becomes a lead, in the first stage."""
    company = await visible_company(session, principal, company_id, lock=True)
    configured = await store.stages(session)
    target = next((s for s in configured if s.code == stage), None)
    if stage is not None and target is None:
        raise Unprocessable(
            "No such stage in the pipeline.",
            errors=[FieldError(field="stage", message=f"no stage {stage!r}")],
        )
    row = await store.standing(session, company_id, lock=True)
    if sets_source:
        row.source = source
    if target is None and row.stage is None and configured:
        target = configured[0]  # a company given a source is a lead
    if target is not None:
        await store.move(session, company, row, target, str(principal.subject), utcnow())
    await session.flush()
    return await _standing(session, company_id)


async def _reach(
    session: AsyncSession,
    company: Company,
    row: CompanyPipeline,
    milestone: str | None,
    at: datetime,
) -> None:
    """Forward to the stage `milestone` reaches, never back."""
    if milestone is None:
        return
    target = stage_reached(await store.stages(session), row.stage, milestone)
    if target is not None:
        await store.move(session, company, row, target, "system", at)


async def order_placed(
    session: AsyncSession, company_id: uuid.UUID, adds_to_earlier: bool, at: datetime
) -> None:
    """The first order, or a repeat (not an add-on to an earlier order); an unknown company
    is nothing to do."""
    company = await store.company_exists(session, company_id)
    if company is None:
        return
    row = await store.standing(session, company.id, lock=True)
    before = await store.count_order(session, row)
    await _reach(session, company, row, milestone_of_order(before, adds_to_earlier), at)


async def quote_requested(session: AsyncSession, company_id: uuid.UUID) -> None:
    company = await store.company_exists(session, company_id)
    if company is None:
        return
    row = await store.standing(session, company.id, lock=True)
    await _reach(session, company, row, "quote_requested", utcnow())
