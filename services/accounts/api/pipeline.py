"""The sales pipeline's routes: its configurable stages, and a company's stage and source (a
lead is a company before its first order). The flows are in `usecases/pipeline.py`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.accounts.domain.pipeline import Stage
from services.accounts.usecases import pipeline as usecase
from services.accounts.usecases.access import STAFF
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.fields import Code, line
from shared.pagination import Page, PageDep

router = APIRouter(tags=["pipeline"])
pages = APIRouter(tags=["pipeline"])


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


def _read_standing(found: usecase.Standing) -> StandingRead:
    return StandingRead.model_validate(found, from_attributes=True)


@pages.get("/pipeline/stages", summary="The sales pipeline's stages, in order")
async def get_stages(
    session: SessionDep, principal: allow(*STAFF), page: PageDep
) -> Page[StageRead]:
    stages, cursor = await usecase.stages(session, page)
    return Page(items=_read_stages(stages), next_cursor=cursor)


@router.put("/pipeline/stages", summary="Replace the sales pipeline's stages")
async def put_stages(
    body: PipelineWrite, session: SessionDep, principal: allow(Role.ADMIN, Role.HEAD_OF_SALES)
) -> list[StageRead]:
    wanted = [Stage(s.code, s.name, i, s.reached_on) for i, s in enumerate(body.stages, start=1)]
    return _read_stages(await usecase.replace_stages(session, wanted))


@router.get("/companies/{company_id}/pipeline", summary="A company's stage, source and moves")
async def get_standing(
    company_id: uuid.UUID, session: SessionDep, principal: allow(*STAFF)
) -> StandingRead:
    return _read_standing(await usecase.standing(session, principal, company_id))


@router.put(
    "/companies/{company_id}/pipeline",
    summary="Set a company's lead source or move it to a stage (recorded with its time)",
)
async def put_standing(
    company_id: uuid.UUID, body: StandingWrite, session: SessionDep, principal: allow(*STAFF)
) -> StandingRead:
    found = await usecase.set_standing(
        session,
        principal,
        company_id,
        body.stage,
        body.source,
        sets_source="source" in body.model_fields_set,
    )
    return _read_standing(found)
