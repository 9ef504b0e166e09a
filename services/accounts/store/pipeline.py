"""The pipeline's queries: the configured stages, where a company stands, its moves (each an
event for analytics' conversion figures)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.domain.pipeline import DEFAULT_STAGES, Stage
from services.accounts.store.models import Company, CompanyPipeline, PipelineStage, StageChange
from shared.contracts.accounts import CompanyStageChangedV1
from shared.events.outbox import record_event
from shared.problems import FieldError, Unprocessable


async def stages(session: AsyncSession) -> list[Stage]:
    """The configured pipeline; the default one until an admin sets it."""
    rows = await session.scalars(select(PipelineStage).order_by(PipelineStage.position))
    found = [Stage(r.code, r.name, r.position, r.reached_on) for r in rows]
    return found or [Stage(c, n, i, r) for i, (c, n, r) in enumerate(DEFAULT_STAGES, start=1)]


async def replace_stages(session: AsyncSession, wanted: list[Stage]) -> None:
    """The new pipeline, all at once; a stage companies stand in cannot be dropped."""
    codes = [s.code for s in wanted]
    in_use = list(
        await session.scalars(
            select(CompanyPipeline.stage)
            .where(CompanyPipeline.stage.is_not(None), CompanyPipeline.stage.not_in(codes))
            .distinct()
        )
    )
    if in_use:
        raise Unprocessable(
            "Companies stand in stages this pipeline drops; move them first.",
            errors=[FieldError(field="stages", message=f"{c!r} is in use") for c in in_use],
        )
    await session.execute(delete(PipelineStage))
    await session.execute(
        insert(PipelineStage),
        [
            {"code": s.code, "name": s.name, "position": s.position, "reached_on": s.reached_on}
            for s in wanted
        ],
    )


async def standing(session: AsyncSession, company_id: uuid.UUID, *, lock: bool = False):
    """The company's pipeline row, created empty when it has none."""
    await session.execute(
        upsert(CompanyPipeline).values(company_id=company_id).on_conflict_do_nothing()
    )
    stmt = select(CompanyPipeline).where(CompanyPipeline.company_id == company_id)
    return await session.scalar(stmt.with_for_update() if lock else stmt)


async def history(session: AsyncSession, company_id: uuid.UUID) -> list[StageChange]:
    rows = await session.scalars(
        select(StageChange).where(StageChange.company_id == company_id).order_by(StageChange.at)
    )
    return list(rows)


async def move(
    session: AsyncSession,
    company: Company,
    row: CompanyPipeline,
    stage: Stage,
    actor: str,
    at: datetime,
) -> None:
    """Put the company in `stage` and tell analytics (nothing when it stands there already)."""
    if row.stage == stage.code:
        return
    was = row.stage
    row.stage, row.stage_since = stage.code, at
    session.add(
        StageChange(company_id=company.id, from_stage=was, to_stage=stage.code, at=at, actor=actor)
    )
    record_event(
        session,
        CompanyStageChangedV1(
            company_id=company.id,
            source=row.source,
            from_stage=was,
            to_stage=stage.code,
            position=stage.position,
            sales_manager_id=company.sales_manager_id,
            actor=actor,
            changed_at=at,
        ),
    )
    await session.flush()


async def count_order(session: AsyncSession, row: CompanyPipeline) -> int:
    """Count one more order placed; returns how many there were before it."""
    before = row.orders_placed
    row.orders_placed = before + 1  # the row is locked
    return before


async def company_exists(session: AsyncSession, company_id: uuid.UUID) -> Company | None:
    return await session.scalar(
        select(Company).where(Company.id == company_id).with_for_update(of=Company)
    )


async def stage_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(CompanyPipeline.stage, func.count())
        .where(CompanyPipeline.stage.is_not(None))
        .group_by(CompanyPipeline.stage)
    )
    return {stage: n for stage, n in rows.all()}
