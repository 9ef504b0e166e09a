"""Rules and templates, managed by admins; template preview with sample data."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from services.notifications.domain import rules as domain
from services.notifications.domain.templates import LOCALES
from services.notifications.store.messages import RuleCache
from services.notifications.store.models import Rule, Template
from services.notifications.usecases import rules as usecase
from services.notifications.usecases import templates
from services.notifications.usecases.access import RULE_ADMINS
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.fields import code, line, multiline
from shared.pagination import Page, PageDep

router = APIRouter()
pages = APIRouter()
READERS = (Role.ADMIN, Role.SALES_MANAGER)
Locale = Literal[LOCALES]  # type: ignore[valid-type]
TemplateKey = Annotated[str, Path(pattern=r"^[a-z0-9_]{1,100}$")]
DataPath = code(200)  # a dotted path into the event and its context


class ConditionIn(BaseModel):
    path: DataPath = Field(
        examples=["event.total_minor", "segment.abc_revenue", "company.client_group"]
    )
    op: Literal[domain.OPERATORS]  # type: ignore[valid-type]
    value: Any = None


class ScheduleIn(BaseModel):
    days: float = Field(
        0, ge=-3660, le=3660, description="Days after the event, or after the date at from_path"
    )
    from_path: DataPath | None = Field(None, examples=["event.valid_until"])


class CancelOnIn(BaseModel):
    event_type: code(200)
    when: list[ConditionIn] = Field(default_factory=list, max_length=50)


class RuleBase(BaseModel):
    description: multiline(4000) = ""
    event_type: code(200) = Field(
        examples=["order.placed.v1"], description="Short type, no com.b2b."
    )
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=50)
    audience: Literal[domain.AUDIENCES]  # type: ignore[valid-type]
    channel: Literal[domain.CHANNELS]  # type: ignore[valid-type]
    kind: Literal[domain.KINDS]  # type: ignore[valid-type]
    template: code(100)
    schedule: ScheduleIn | None = None
    dedupe: list[DataPath] = Field(
        default_factory=list, max_length=20, description="Paths that make two the same"
    )
    thread: DataPath | None = Field(None, description="Path tying messages to cancel_on events")
    cancel_on: list[CancelOnIn] = Field(default_factory=list, max_length=20)
    enabled: bool = True


class RuleCreate(RuleBase):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,99}$")


class RuleUpdate(BaseModel):
    description: multiline(4000) | None = None
    conditions: list[ConditionIn] | None = Field(None, max_length=50)
    audience: Literal[domain.AUDIENCES] | None = None  # type: ignore[valid-type]
    channel: Literal[domain.CHANNELS] | None = None  # type: ignore[valid-type]
    kind: Literal[domain.KINDS] | None = None  # type: ignore[valid-type]
    template: code(100) | None = None
    schedule: ScheduleIn | None = None
    dedupe: list[DataPath] | None = Field(None, max_length=20)
    thread: DataPath | None = None
    cancel_on: list[CancelOnIn] | None = Field(None, max_length=20)
    enabled: bool | None = None


class RuleRead(RuleBase):
    id: uuid.UUID
    code: str
    builtin: bool
    updated_at: datetime


def _read(rule: Rule) -> RuleRead:
    return RuleRead.model_validate(rule, from_attributes=True)


def _cache(request: Request) -> RuleCache:
    """The rule cache of this process, cleared once a change commits."""
    return request.app.state.rule_cache


@pages.get("/rules", tags=["rules"], summary="Every rule, built-in and own, by event type and code")
async def list_rules(
    session: SessionDep, principal: allow(*READERS), page: PageDep
) -> Page[RuleRead]:
    return Page.of(await usecase.list_rules(session, page), _read)


@router.post(
    "/rules",
    tags=["rules"],
    status_code=201,
    summary="Add a rule",
    responses={409: {"description": "A rule with this code exists"}},
)
async def create_rule(
    body: RuleCreate, request: Request, session: SessionDep, principal: allow(*RULE_ADMINS)
) -> RuleRead:
    rule = await usecase.create_rule(session, _cache(request), body.model_dump(mode="json"))
    return _read(rule)


@router.get("/rules/{rule_id}", tags=["rules"], summary="One rule")
async def get_rule(rule_id: uuid.UUID, session: SessionDep, principal: allow(*READERS)) -> RuleRead:
    return _read(await usecase.get_rule(session, rule_id))


@router.patch("/rules/{rule_id}", tags=["rules"], summary="Change a rule (built-ins too)")
async def update_rule(
    rule_id: uuid.UUID,
    body: RuleUpdate,
    request: Request,
    session: SessionDep,
    principal: allow(*RULE_ADMINS),
) -> RuleRead:
    changes = body.model_dump(mode="json", exclude_unset=True)
    return _read(await usecase.update_rule(session, _cache(request), rule_id, changes))


@router.delete(
    "/rules/{rule_id}",
    tags=["rules"],
    status_code=204,
    summary="Delete an own rule (built-ins can only be disabled)",
    responses={409: {"description": "A built-in rule: disable it instead"}},
)
async def delete_rule(
    rule_id: uuid.UUID, request: Request, session: SessionDep, principal: allow(*RULE_ADMINS)
) -> Response:
    await usecase.delete_rule(session, _cache(request), rule_id)
    return Response(status_code=204)


# Templates --------------------------------------------------------------------------------


class TemplateWrite(BaseModel):
    subject: line(1000, min_length=1)
    body: multiline(100_000, min_length=1)
    sample: dict[str, Any] | None = Field(None, description="Data the preview renders with")


class TemplateRead(BaseModel):
    key: str
    locale: str
    subject: str
    body: str
    sample: dict[str, Any]
    updated_at: datetime


class PreviewRequest(BaseModel):
    data: dict[str, Any] | None = Field(
        None,
        description="Context to render with (event, company, recipient, links); "
        "the template's sample when omitted",
    )


class PreviewRead(BaseModel):
    key: str
    locale: str
    subject: str
    body: str


def _template(found: Template) -> TemplateRead:
    return TemplateRead.model_validate(found, from_attributes=True)


@pages.get("/templates", tags=["templates"], summary="Every template in every locale, by key")
async def list_templates(
    session: SessionDep, principal: allow(*RULE_ADMINS), page: PageDep
) -> Page[TemplateRead]:
    return Page.of(await templates.list_templates(session, page), _template)


@router.get("/templates/{key}/{locale}", tags=["templates"], summary="One template variant")
async def get_template(
    key: TemplateKey, locale: Locale, session: SessionDep, principal: allow(*RULE_ADMINS)
) -> TemplateRead:
    return _template(await templates.get_template(session, key, locale))


@router.put("/templates/{key}/{locale}", tags=["templates"], summary="Create or replace a variant")
async def put_template(
    key: TemplateKey,
    locale: Locale,
    body: TemplateWrite,
    session: SessionDep,
    principal: allow(*RULE_ADMINS),
) -> TemplateRead:
    found = await templates.put_template(session, key, locale, body.subject, body.body, body.sample)
    return _template(found)


@router.post(
    "/templates/{key}/{locale}/preview",
    tags=["templates"],
    summary="Render a variant with its sample data (or the data given)",
)
async def preview_template(
    key: TemplateKey,
    locale: Locale,
    body: PreviewRequest,
    session: SessionDep,
    principal: allow(*RULE_ADMINS),
) -> PreviewRead:
    out = await templates.preview(session, key, locale, body.data)
    return PreviewRead(key=key, locale=locale, subject=out.subject, body=out.body)
