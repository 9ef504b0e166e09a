"""The sales pipeline: its configurable stages, and a company's stage and source (a lead is a
company before its first order). Quotes and orders move companies forward by themselves
(events.py); managers move them by hand here. Every move is an event analytics counts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.accounts.api.access import STAFF, visible_company
from services.accounts.domain.pipeline import Stage, check_stages
from services.accounts.store import pipeline as store
from shared.auth import Role, allow
from shared.clock import utcnow
from shared.db import SessionDep
from shared.fields import Code, line
from shared.problems import FieldError, Unprocessable

router = APIRouter(tags=["pipeline"])


class StageWrite(BaseModel):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    name: line(200, min_length=1)
    reached_on: Literal["quote_requested", "first_order", "repeat_order"] | None = Field(
        None, description="The fact that moves a company into this stage by itself"
    )


class StageRead(StageWrite):
    position: int


class PipelineWrite(BaseModel):
    stages: list[StageWrite] = Field(
        max_length=100, description="In pipeline order, the first is where leads start"
    )


class StandingWrite(BaseModel):
    stage: Code | None = Field(None, description="Move the company to this stage")
    source: line(100) | None = Field(
        None, description="Where the lead came from (exhibition, website...)"
    )


class StageChangeRead(BaseModel):
    from_stage: str | None
    to_stage: str
    at: datetime
    actor: str


class StandingRead(BaseModel):
    company_id: uuid.UUID
    source: str | None
    stage: str | None
    stage_since: datetime | None
    history: list[StageChangeRead]


def _read_stages(stages: list[Stage]) -> list[StageRead]:
    return [
        StageRead(code=s.code, name=s.name, reached_on=s.reached_on, position=s.position)  # type: ignore[arg-type]
        for s in stages
    ]


@router.get("/pipeline/stages", summary="The sales pipeline's stages, in order")
async def get_stages(session: SessionDep, principal: allow(*STAFF)) -> list[StageRead]:
    return _read_stages(await store.stages(session))


@router.put("/pipeline/stages", summary="Replace the sales pipeline's stages")
async def put_stages(
    body: PipelineWrite, session: SessionDep, principal: allow(Role.ADMIN, Role.HEAD_OF_SALES)
) -> list[StageRead]:
    wanted = [Stage(s.code, s.name, i, s.reached_on) for i, s in enumerate(body.stages, start=1)]
    errors = check_stages(wanted)
    if errors:
        raise Unprocessable("The pipeline is not valid.", errors=errors)
    await store.replace_stages(session, wanted)
    return _read_stages(wanted)


async def _standing(session: SessionDep, company_id: uuid.UUID) -> StandingRead:
    row = await store.standing(session, company_id)
    return StandingRead(
        company_id=company_id,
        source=row.source,
        stage=row.stage,
        stage_since=row.stage_since,
        history=[
            StageChangeRead(from_stage=c.from_stage, to_stage=c.to_stage, at=c.at, actor=c.actor)
            for c in await store.history(session, company_id)
        ],
    )


@router.get("/companies/{company_id}/pipeline", summary="A company's stage, source and moves")
async def get_standing(
    company_id: uuid.UUID, session: SessionDep, principal: allow(*STAFF)
) -> StandingRead:
    await visible_company(session, principal, company_id)
    return await _standing(session, company_id)


@router.put(
    "/companies/{company_id}/pipeline",
    summary="Set a company's lead source or move it to a stage (recorded with its time)",
)
async def put_standing(
    company_id: uuid.UUID, body: StandingWrite, session: SessionDep, principal: allow(*STAFF)
) -> StandingRead:
    company = await visible_company(session, principal, company_id, lock=True)
    stages = await store.stages(session)
    target = next((s for s in stages if s.code == body.stage), None)
    if body.stage is not None and target is None:
        raise Unprocessable(
            "No such stage in the pipeline.",
            errors=[FieldError(field="stage", message=f"no stage {body.stage!r}")],
        )
    row = await store.standing(session, company_id, lock=True)
    if "source" in body.model_fields_set:
        row.source = body.source
    if target is None and row.stage is None and stages:
        target = stages[0]  # a company given a source is a lead
    if target is not None:
        await store.move(session, company, row, target, str(principal.subject), utcnow())
    await session.flush()
    return await _standing(session, company_id)
