"""Segment rules: commercial policy that follows the client base.

A rule turns analytics segments into a price list or a discount; when `client.segment_changed`
arrives, the client's assignments follow (services.pricing.events), each kept with the
segments that caused it and shown by `GET /prices/explain`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, model_validator

from services.pricing.api.governance import GOVERNORS
from services.pricing.api.policy_common import CodePath
from services.pricing.api.policy_schemas import Percent, ScopeValue
from services.pricing.store import policy as policy_store
from services.pricing.store import segments as store
from services.pricing.store.governance_models import SegmentRule
from services.pricing.store.prices import client as client_row
from services.pricing.usecases import segment_rules
from services.pricing.usecases.access import may_see
from shared.auth import Role, allow
from shared.clock import today
from shared.db import SessionDep
from shared.fields import BusinessDate, Code, code
from shared.pagination import Page, PageDep
from shared.problems import NotFound
from shared.reads import read_of

router = APIRouter(tags=["segment rules"])
pages = APIRouter(tags=["segment rules"])

READERS = (Role.ADMIN, Role.PRICING_MANAGER, Role.SALES_MANAGER)
Dimension = code(32)
Value = code(64)


class RuleDiscount(BaseModel):
    scope: Literal["brand", "category"]
    value: ScopeValue
    percent: Percent


class SegmentRuleCreate(BaseModel):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    conditions: dict[Dimension, Value] = Field(
        min_length=1,
        max_length=20,
        description='Segment values that must all hold, e.g. {"abc_revenue": "A", '
        '"regularity": "regular"} (dimensions as analytics names them)',
    )
    action: Literal["price_list", "discount"]
    price_list_code: Code | None = Field(None, description="For price_list")
    discount: RuleDiscount | None = Field(None, description="For discount")
    duration_days: int | None = Field(
        None, ge=1, le=3660, description="Null: while the segments hold"
    )
    valid_from: BusinessDate | None = None
    valid_to: BusinessDate | None = Field(None, description="Exclusive; the rule's own end")

    @model_validator(mode="after")
    def _one_action(self) -> SegmentRuleCreate:
        if self.action == "price_list" and (self.price_list_code is None or self.discount):
            raise ValueError("a price_list rule names price_list_code and no discount")
        if self.action == "discount" and (self.discount is None or self.price_list_code):
            raise ValueError("a discount rule names discount and no price_list_code")
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        return self


class SegmentRuleRead(SegmentRuleCreate):
    created_at: datetime


async def _read(session: Any, rule: SegmentRule) -> SegmentRuleRead:
    return (await _reads(session, [rule]))[0]


async def _reads(session: Any, rules: list[SegmentRule]) -> list[SegmentRuleRead]:
    """The rules as read, their price lists' codes found in one query."""
    codes = await policy_store.list_codes_of(session, [r.list_id for r in rules])
    return [_read_with(rule, codes) for rule in rules]


def _read_with(rule: SegmentRule, codes: dict[int, str]) -> SegmentRuleRead:
    return read_of(
        SegmentRuleRead,
        rule,
        price_list_code=codes.get(rule.list_id or 0),
        discount=RuleDiscount(
            scope=rule.discount_scope,  # type: ignore[arg-type]
            value=rule.discount_value or "",
            percent=rule.discount_percent or Decimal(0),
        )
        if rule.action == "discount"
        else None,
    )


@router.post(
    "/segment-rules",
    status_code=201,
    response_model=SegmentRuleRead,
    summary="Add a rule that gives clients of a segment a price list or a discount",
    description=(
        "Applied to a client when analytics next moves it (`client.segment_changed`): a "
        "matching rule assigns, for `duration_days` or while the segments hold; an open "
        "assignment ends when the client leaves the segment."
    ),
    responses={409: {"description": "A segment rule with this code exists"}},
)
async def create_rule(
    body: SegmentRuleCreate, session: SessionDep, principal: allow(*GOVERNORS)
) -> SegmentRuleRead:
    rule = await segment_rules.add_rule(
        session,
        {
            "code": body.code,
            "conditions": body.conditions,
            "action": body.action,
            "discount_scope": body.discount.scope if body.discount else None,
            "discount_value": body.discount.value if body.discount else None,
            "discount_percent": body.discount.percent if body.discount else None,
            "duration_days": body.duration_days,
            "valid_from": body.valid_from,
            "valid_to": body.valid_to,
        },
        body.price_list_code,
    )
    return await _read(session, rule)


@pages.get("/segment-rules", summary="Segment rules, by code")
async def list_rules(
    session: SessionDep, principal: allow(*READERS), page: PageDep
) -> Page[SegmentRuleRead]:
    rules, cursor = await store.rules(session, page)
    return Page(items=await _reads(session, rules), next_cursor=cursor)


@router.delete(
    "/segment-rules/{code}",
    status_code=204,
    summary="Remove a segment rule and every assignment it made",
)
async def delete_rule(
    code: CodePath, session: SessionDep, principal: allow(*GOVERNORS)
) -> Response:
    await segment_rules.remove_rule(session, code)
    return Response(status_code=204)


class SegmentAssignmentRead(BaseModel):
    rule: str
    action: str
    price_list: str | None
    discount_scope: str | None
    discount_value: str | None
    discount_percent: Decimal | None
    segments: dict[str, str] = Field(description="The segment values that caused it")
    assigned_at: datetime
    valid_to: date | None


class ClientSegmentsRead(BaseModel):
    company_id: uuid.UUID
    assignments: list[SegmentAssignmentRead]


@router.get(
    "/clients/{company_id}/segment-assignments",
    response_model=ClientSegmentsRead,
    summary="What segment rules give a client now, and which segments caused it",
)
async def client_assignments(
    company_id: uuid.UUID, session: SessionDep, principal: allow(*READERS)
) -> ClientSegmentsRead:
    await may_see(session, principal, company_id)
    row = await client_row(session, company_id, today())
    if row is None:
        raise NotFound("The pricing service knows no such client.")
    return ClientSegmentsRead(
        company_id=company_id,
        assignments=[SegmentAssignmentRead.model_validate(a) for a in row.assignments],
    )
