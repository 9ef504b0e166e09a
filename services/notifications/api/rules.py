"""Rules and templates, managed by admins; template preview with sample data."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.api.access import RULE_ADMINS
from services.notifications.domain import rules as domain
from services.notifications.domain import templates as rendering
from services.notifications.domain.templates import LOCALES
from services.notifications.store import messages as store
from services.notifications.store.models import Rule, Template
from shared.auth import Role, allow
from shared.clock import utcnow
from shared.db import SessionDep
from shared.fields import code, free_text, line
from shared.problems import Conflict, FieldError, NotFound, Unprocessable

router = APIRouter()
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
    description: free_text(4000) = ""
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
    description: free_text(4000) | None = None
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


def _rules_changed(request: Request, session: AsyncSession) -> None:
    """This process reads rules afresh once the change commits (others within the cache TTL)."""
    cache = request.app.state.rule_cache
    event.listen(session.sync_session, "after_commit", lambda _: cache.clear(), once=True)


def _read(rule: Rule) -> RuleRead:
    return RuleRead.model_validate(rule, from_attributes=True)


async def _validated(session: SessionDep, values: dict[str, Any]) -> None:
    """The rule must make sense as plain rules and name a template that exists."""
    try:
        domain.rule_from_row({"code": "check", **values})
    except (domain.RuleError, TypeError) as exc:
        raise Unprocessable(str(exc)) from exc
    if not await store.templates_of(session, values["template"]):
        raise Unprocessable(
            "No such template.",
            errors=[FieldError(field="template", message="no template with this key")],
        )


@router.get("/rules", tags=["rules"], summary="Every rule, built-in and own")
async def list_rules(session: SessionDep, principal: allow(*READERS)) -> list[RuleRead]:
    rows = await session.scalars(select(Rule).order_by(Rule.event_type, Rule.code))
    return [_read(r) for r in rows]


@router.post("/rules", tags=["rules"], status_code=201, summary="Add a rule")
async def create_rule(
    body: RuleCreate, request: Request, session: SessionDep, principal: allow(*RULE_ADMINS)
) -> RuleRead:
    _rules_changed(request, session)
    values = body.model_dump(mode="json")
    await _validated(session, values)
    rule = Rule(**values, builtin=False)
    session.add(rule)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("A rule with this code exists.") from exc
    return _read(rule)


async def _rule(session: SessionDep, rule_id: uuid.UUID) -> Rule:
    rule = await session.get(Rule, rule_id, with_for_update=True)
    if rule is None:
        raise NotFound("No such rule.")
    return rule


@router.get("/rules/{rule_id}", tags=["rules"], summary="One rule")
async def get_rule(rule_id: uuid.UUID, session: SessionDep, principal: allow(*READERS)) -> RuleRead:
    return _read(await _rule(session, rule_id))


@router.patch("/rules/{rule_id}", tags=["rules"], summary="Change a rule (built-ins too)")
async def update_rule(
    rule_id: uuid.UUID,
    body: RuleUpdate,
    request: Request,
    session: SessionDep,
    principal: allow(*RULE_ADMINS),
) -> RuleRead:
    _rules_changed(request, session)
    rule = await _rule(session, rule_id)
    changes = body.model_dump(mode="json", exclude_unset=True)
    merged = {**_read(rule).model_dump(mode="json"), **changes}
    await _validated(session, merged)
    for key, value in changes.items():
        setattr(rule, key, value)
    rule.updated_at = utcnow()
    await session.flush()
    return _read(rule)


@router.delete(
    "/rules/{rule_id}",
    tags=["rules"],
    status_code=204,
    summary="Delete an own rule (built-ins can only be disabled)",
)
async def delete_rule(
    rule_id: uuid.UUID, request: Request, session: SessionDep, principal: allow(*RULE_ADMINS)
) -> Response:
    _rules_changed(request, session)
    rule = await _rule(session, rule_id)
    if rule.builtin:
        raise Conflict("A built-in rule cannot be deleted; disable it instead.")
    await session.delete(rule)
    return Response(status_code=204)


# Templates --------------------------------------------------------------------------------


class TemplateWrite(BaseModel):
    subject: line(1000, min_length=1)
    body: free_text(100_000, min_length=1)
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


@router.get("/templates", tags=["templates"], summary="Every template in every locale")
async def list_templates(session: SessionDep, principal: allow(*RULE_ADMINS)) -> list[TemplateRead]:
    rows = await session.scalars(select(Template).order_by(Template.key, Template.locale))
    return [TemplateRead.model_validate(t, from_attributes=True) for t in rows]


@router.get("/templates/{key}/{locale}", tags=["templates"], summary="One template variant")
async def get_template(
    key: TemplateKey, locale: Locale, session: SessionDep, principal: allow(*RULE_ADMINS)
) -> TemplateRead:
    found = await session.get(Template, (key, locale))
    if found is None:
        raise NotFound("No such template.")
    return TemplateRead.model_validate(found, from_attributes=True)


@router.put("/templates/{key}/{locale}", tags=["templates"], summary="Create or replace a variant")
async def put_template(
    key: TemplateKey,
    locale: Locale,
    body: TemplateWrite,
    session: SessionDep,
    principal: allow(*RULE_ADMINS),
) -> TemplateRead:
    try:
        rendering.check(body.subject, body.body)
    except rendering.TemplateProblem as exc:
        raise Unprocessable(f"The template does not compile: {exc}") from exc
    found = await session.get(Template, (key, locale), with_for_update=True)
    if found is None:
        found = Template(key=key, locale=locale, subject="", body="", sample={})
        session.add(found)
    found.subject, found.body, found.updated_at = body.subject, body.body, utcnow()
    if body.sample is not None:
        found.sample = body.sample
    await session.flush()
    return TemplateRead.model_validate(found, from_attributes=True)


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
    found = await session.get(Template, (key, locale))
    if found is None:
        raise NotFound("No such template.")
    try:
        out = rendering.render(
            found.subject,
            found.body,
            body.data if body.data is not None else found.sample,
            strict=True,
            locale=locale,
        )
    except rendering.TemplateProblem as exc:
        raise Unprocessable(f"The template does not render with this data: {exc}") from exc
    return PreviewRead(key=key, locale=locale, subject=out.subject, body=out.body)
