"""Bodies of the bulk policy endpoints: many items of the single endpoints' own shapes, and the
per-row answer."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from services.pricing.api.policy_schemas import (
    ClientDiscounts,
    GroupCode,
    ListAssignment,
    PriceListCreate,
)
from services.pricing.domain.bulk_policy import Outcome
from shared.feeds.models import FeedMode

MAX_ITEMS = 10_000


class RowError(BaseModel):
    field: str = Field(description="The item's field, e.g. `currency` or `list_codes[2]`")
    message: str


class RowResult(BaseModel):
    row: int = Field(description="The item's place in `items`; the first item is row 1")
    key: str = Field(description="The item's code, group code or company id")
    outcome: Outcome
    errors: list[RowError] = Field(default_factory=list, description="Why it was rejected")


class BulkResult(BaseModel):
    mode: FeedMode
    created: int
    updated: int
    unchanged: int = Field(description="Items that match what is stored: a batch sent again")
    rejected: int = Field(description="Items skipped in skip_bad_rows mode")
    rows: list[RowResult] = Field(description="One per item, in the order sent")


class PriceListsBulk(BaseModel):
    items: list[PriceListCreate] = Field(
        min_length=1,
        max_length=MAX_ITEMS,
        description="Each list as a whole (fields left out take their defaults), by `code`; "
        "a parent may be a list defined in an earlier row",
    )


class GroupAssignment(ListAssignment):
    group_code: GroupCode


class GroupAssignmentsBulk(BaseModel):
    items: list[GroupAssignment] = Field(min_length=1, max_length=MAX_ITEMS)


class ClientAssignment(ListAssignment):
    company_id: uuid.UUID = Field(description="The client's company id (accounts)")


class ClientAssignmentsBulk(BaseModel):
    items: list[ClientAssignment] = Field(min_length=1, max_length=MAX_ITEMS)


class ClientDiscountSet(ClientDiscounts):
    company_id: uuid.UUID = Field(description="The client's company id (accounts)")


class ClientDiscountsBulk(BaseModel):
    items: list[ClientDiscountSet] = Field(min_length=1, max_length=MAX_ITEMS)
