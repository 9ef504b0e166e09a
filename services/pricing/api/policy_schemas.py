"""Request and response bodies of the commercial-policy admin API (XCreate, XUpdate, XRead).

Money is integer minor units; percents are decimals with two places, sent and shown as
strings ("5.00") so no float ever rounds them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from shared.apiconventions import examples
from shared.fields import (
    BusinessDate,
    CurrencyCode,
    MinorUnits,
    PositiveMinorUnits,
    Sku,
    code,
    decimal,
    line,
)

Currency = CurrencyCode
Code = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"),
    Field(description="Letters, digits, `_`, `-`, `.`; up to 64"),
]
GroupCode = code(64)
SkuCode = Sku
ScopeValue = line(100, min_length=1)
Name = line(200)
Percent = Annotated[
    decimal(places=2, gt=0, le=Decimal("99.99")), Field(description="0 < p < 100, 2 places")
]
LevelPercent = Annotated[
    decimal(places=2, ge=0, le=Decimal("99.99")), Field(description="0 <= p < 100, 2 places")
]
MarkupPercent = Annotated[
    decimal(places=2, gt=-100, le=1000),
    Field(description="On the parent's prices: 2.50 is 2.5 % above, -5.00 is 5 % below"),
]
Money = MinorUnits
# A tier's quantity: the price feed's limit too (services/pricing/api/feeds.py).
MAX_QTY = 99_999_999
MinQty = decimal(places=3, gt=0, le=MAX_QTY)


def _after_valid_from(valid_to: date | None, info: ValidationInfo) -> date | None:
    """valid_to is exclusive (the first day it no longer applies), so it must be later."""
    valid_from = info.data.get("valid_from")
    if valid_to is not None and valid_from is not None and valid_to <= valid_from:
        raise ValueError("must be after valid_from (it is the first day that no longer applies)")
    return valid_to


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Price lists ---------------------------------------------------------------------------------


@examples(
    {
        "code": "DEALERS-2027",
        "name": "Dealers 2027",
        "currency": "EUR",
        "priority": 10,
        "parent_code": "BASE",
        "markup_percent": "-3.50",
        "valid_from": "2027-01-01",
    }
)
class PriceListCreate(BaseModel):
    code: Code
    name: Name = ""
    currency: Currency
    priority: int = Field(0, ge=-1000, le=1000, description="Among a client's lists, higher wins")
    is_base: bool = Field(False, description="Everyone's fallback list in its currency")
    parent_code: Code | None = Field(
        None, description="Derive prices from this list (same currency); no entries of its own"
    )
    markup_percent: MarkupPercent = Decimal(0)
    valid_from: BusinessDate | None = Field(None, description="First day the list applies")
    valid_to: BusinessDate | None = Field(None, description="First day it no longer applies")

    _valid_to = field_validator("valid_to")(_after_valid_from)

    @field_validator("markup_percent")
    @classmethod
    def _markup_needs_parent(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        if value != 0 and info.data.get("parent_code") is None:
            raise ValueError("a markup needs a parent_code")
        return value


class PriceListUpdate(BaseModel):
    """Only the fields sent change. `parent_code: null` makes the list stand on its own."""

    name: Name | None = None
    currency: Currency | None = None
    priority: int | None = Field(None, ge=-1000, le=1000)
    is_base: bool | None = None
    parent_code: Code | None = None
    markup_percent: MarkupPercent | None = None
    valid_from: BusinessDate | None = None
    valid_to: BusinessDate | None = None


@examples(
    {
        "code": "DEALERS-2027",
        "name": "Dealers 2027",
        "currency": "EUR",
        "priority": 10,
        "is_base": False,
        "is_matrix": False,
        "parent_code": "BASE",
        "markup_percent": "-3.50",
        "valid_from": "2027-01-01",
        "valid_to": None,
        "updated_at": "2026-12-01T08:45:00Z",
    }
)
class PriceListRead(BaseModel):
    code: str
    name: str
    currency: str
    priority: int
    is_base: bool
    is_matrix: bool = Field(description="Derived by the engine from a matrix feed: read-only")
    parent_code: str | None
    markup_percent: Decimal
    valid_from: date | None
    valid_to: date | None
    updated_at: datetime


class PriceEditRead(BaseModel):
    """What an edit of a list's prices did, under the price feed's governance."""

    state: Literal["applied", "dry_run", "staged"] = Field(
        description="applied (a price version), dry_run (nothing changed), or staged: waits "
        "for a second pricing manager's approval"
    )
    version: int | None = Field(
        None, description="The price version: applied, or staged until approved"
    )
    job_id: uuid.UUID | None = Field(
        None,
        description="The price feed job an entries edit ran as: its `/feeds/prices/{id}/diff`, "
        "`approve`, `decline`, `override`",
    )
    diff: dict[str, Any] = Field(
        description="Rows added, changed, removed; the % change distribution; the SKUs and "
        "lists most affected"
    )
    awaiting_approval: list[str] = Field(
        default_factory=list, description="The lists whose guardrail asks for approval"
    )


class PriceListEditRead(PriceListRead):
    price_change: PriceEditRead | None = Field(
        None,
        description="When the edit moves prices (a derived list's parent or markup): what it "
        "did. With `dry_run` or while staged the list above is unchanged.",
    )


class EntryEdit(BaseModel):
    sku: SkuCode
    min_qty: MinQty = Field(Decimal(1), description="Tier")
    price_minor: PositiveMinorUnits | None = Field(
        None, description="Unit price in the list's currency; for upserts"
    )
    valid_from: BusinessDate | None = Field(None, description="First day; null: always")
    valid_to: BusinessDate | None = Field(None, description="First day it no longer applies")
    action: Literal["upsert", "delete"] = "upsert"


class EntriesEdit(BaseModel):
    rows: list[EntryEdit] = Field(
        min_length=1, max_length=10_000, description="Entries to upsert or delete, by key"
    )


class PriceListEntryRead(BaseModel):
    sku: str
    min_qty: Decimal = Field(description="Tier: the quantity from which this price applies")
    price_minor: int
    valid_from: date | None = Field(description="null: since always")
    valid_to: date | None = Field(description="First day it no longer applies; null: open")


# Assignments ---------------------------------------------------------------------------------


@examples({"list_codes": ["DEALERS-2027"]})
class ListAssignment(BaseModel):
    list_codes: list[Code] = Field(
        max_length=200, description="The whole set: lists left out are unassigned"
    )


@examples({"company_id": "7b3f6a52-9a4e-4f1e-8a31-0c2d9b6e5f10", "list_codes": ["DEALERS-2027"]})
class ClientListsRead(BaseModel):
    company_id: uuid.UUID
    list_codes: list[str] = Field(description="Highest priority first (the resolution order)")


class GroupListsRead(BaseModel):
    group_code: str
    list_codes: list[str] = Field(description="Highest priority first (the resolution order)")


# Client discounts ----------------------------------------------------------------------------


class ClientDiscount(BaseModel):
    scope: Literal["brand", "category"]
    value: ScopeValue = Field(description="The brand or category name, as the catalog has it")
    percent: Percent


class ClientDiscounts(BaseModel):
    discounts: list[ClientDiscount] = Field(
        max_length=1000, description="The whole set: discounts left out are removed"
    )


class ClientDiscountsRead(ClientDiscounts):
    company_id: uuid.UUID


# Floors --------------------------------------------------------------------------------------


class FloorPriceWrite(BaseModel):
    currency: Currency
    price_minor: Money


class FloorPriceRead(BaseModel):
    sku: str
    currency: str
    price_minor: int


# Promotions ----------------------------------------------------------------------------------


# A week's 10 % off every grout.
WINTER_GROUT = {
    "code": "WINTER-GROUT",
    "name": "Winter grout week",
    "scope": "category",
    "value": "Grouts",
    "percent": "10.00",
    "valid_from": "2027-01-11",
    "valid_to": "2027-01-18",
}


@examples(WINTER_GROUT)
class PromotionCreate(BaseModel):
    code: Code
    name: Name = ""
    scope: Literal["sku", "brand", "category"]
    value: ScopeValue = Field(description="SKU code, brand or category")
    percent: Percent
    valid_from: BusinessDate = Field(description="First day")
    valid_to: BusinessDate | None = Field(
        None, description="First day it no longer applies; null: open"
    )

    _valid_to = field_validator("valid_to")(_after_valid_from)


@examples(WINTER_GROUT)
class PromotionRead(Read):
    code: str
    name: str
    scope: str
    value: str
    percent: Decimal
    valid_from: date
    valid_to: date | None


# Ladders -------------------------------------------------------------------------------------


class LadderLevel(BaseModel):
    threshold_minor: Money = Field(description="Turnover in the period from which it applies")
    discount_percent: LevelPercent = Field(Decimal(0), description="Off list prices")
    bonus_percent: LevelPercent = Field(Decimal(0), description="Retro bonus on the turnover")


class LadderCreate(BaseModel):
    code: Code
    name: Name = ""
    period: Literal["month", "quarter", "year"]
    currency: Currency
    levels: list[LadderLevel] = Field(min_length=1, max_length=50)

    @field_validator("levels")
    @classmethod
    def _increasing(cls, levels: list[LadderLevel]) -> list[LadderLevel]:
        thresholds = [level.threshold_minor for level in levels]
        if any(b <= a for a, b in pairwise(thresholds)):
            raise ValueError("threshold_minor must be strictly increasing from level to level")
        return levels


class LadderRead(Read):
    code: str
    name: str
    period: str
    currency: str
    levels: list[LadderLevel]


class ClientLadderWrite(BaseModel):
    ladder_code: Code


class ClientLadderRead(BaseModel):
    company_id: uuid.UUID
    ladder_code: str
