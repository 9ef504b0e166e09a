"""The shapes of resolved prices, explanations and ladder progress: a buyer's (no cost, margin
or floor) and staff's."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from services.pricing.api.segments import SegmentAssignmentRead
from shared.apiconventions import examples
from shared.fields import BusinessDate, CurrencyCode, Quantity, Sku

MAX_LINES = 5_000  # POST /prices/resolve takes at most this many lines


class CartLine(BaseModel):
    sku: Sku
    quantity: Quantity = Decimal(1)


@examples(
    {
        "client_id": "7b3f6a52-9a4e-4f1e-8a31-0c2d9b6e5f10",
        "lines": [{"sku": "KN-100", "quantity": "20"}, {"sku": "CE-200", "quantity": "50"}],
    }
)
class ResolveRequest(BaseModel):
    client_id: uuid.UUID = Field(description="The client company (one legal entity)")
    currency: CurrencyCode | None = Field(None, description="Default: the client's")
    date: BusinessDate | None = Field(None, description="Price on this day (UTC); default today")
    lines: list[CartLine] = Field(min_length=1, max_length=MAX_LINES)


class NextTier(BaseModel):
    min_qty: Decimal
    unit_price_minor: int


class BuyerResolvedLine(BaseModel):
    """A line as a client's people get it: no floor (`shared.audience`)."""

    sku: str
    quantity: Decimal
    unit_price_minor: int | None = Field(description="Net unit price; null: no price for client")
    list_price_minor: int | None = Field(description="Before discounts")
    base_price_minor: int | None = Field(
        description="The base list's price for this quantity, whatever the client's terms: "
        "show it beside `unit_price_minor` as the list price against the client's own"
    )
    currency: str
    rule: str = Field(description="What produced the price, e.g. contract, floor, promotion:X")
    next_tier: NextTier | None


class ResolvedLine(BuyerResolvedLine):
    """A line as staff get it."""

    floor_minor: int | None = Field(
        None, description="The SKU's floor in this currency: no price, quoted or not, goes lower"
    )


@examples(
    {
        "client_id": "7b3f6a52-9a4e-4f1e-8a31-0c2d9b6e5f10",
        "currency": "EUR",
        "date": "2026-12-06",
        "price_version": 42,
        "lines": [
            {
                "sku": "KN-100",
                "quantity": "20",
                "unit_price_minor": 400,
                "list_price_minor": 400,
                "base_price_minor": 480,
                "currency": "EUR",
                "rule": "contract",
                "next_tier": None,
            },
            {
                "sku": "CE-200",
                "quantity": "10",
                "unit_price_minor": 1188,
                "list_price_minor": 1250,
                "base_price_minor": 1250,
                "currency": "EUR",
                "rule": "client_discount:brand:Ceresit",
                "next_tier": {"min_qty": "50", "unit_price_minor": 1045},
            },
        ],
    }
)
class BuyerResolveResponse(BaseModel):
    """The answer to a client's people: lines without the floor."""

    client_id: uuid.UUID
    currency: str
    date: dt.date
    price_version: int = Field(
        description="The price version these prices include (every one up to it): what an "
        "order line's price snapshot keeps; GET /price-versions/{id}"
    )
    lines: list[BuyerResolvedLine]


class ResolveResponse(BuyerResolveResponse):
    """The answer to staff and services: each line with the SKU's floor."""

    lines: list[ResolvedLine]  # type: ignore[assignment]


class Candidate(BaseModel):
    source: Literal["contract", "assigned_list", "group_list", "base_list"]
    origin: str
    price_list: str | None
    derived_from_matrix: bool = Field(description="From the client's factored matrix list")
    min_qty: Decimal
    price_minor: int
    currency: str
    valid_from: date | None
    valid_to: date | None


class Step(BaseModel):
    rule: str
    detail: str
    price_minor: int | None


class Loser(BaseModel):
    origin: str
    price_minor: int
    reason: str


EXPLAINED = {  # CE-200 for Alpha LLC: the base list's tier, then its 5 % on the brand
    "client_id": "7b3f6a52-9a4e-4f1e-8a31-0c2d9b6e5f10",
    "sku": "CE-200",
    "quantity": "10",
    "currency": "EUR",
    "date": "2026-12-06",
    "unit_price_minor": 1188,
    "list_price_minor": 1250,
    "base_price_minor": 1250,
    "rule": "client_discount:brand:Ceresit",
    "next_tier": {"min_qty": "50", "unit_price_minor": 1045},
    "steps": [
        {"rule": "base_list:BASE", "detail": "tier from 1 in BASE", "price_minor": 1250},
        {"rule": "client_discount:brand:Ceresit", "detail": "5 % off", "price_minor": 1188},
    ],
    "losers": [
        {"origin": "DEALERS-2027", "price_minor": 1206, "reason": "not valid on 2026-12-06"},
        {"origin": "DEALERS-2027", "price_minor": 1062, "reason": "not valid on 2026-12-06"},
    ],
    "replaced_by_contract": [],
    "candidates": [
        {
            "source": "assigned_list",
            "origin": "DEALERS-2027",
            "price_list": "DEALERS-2027",
            "derived_from_matrix": False,
            "min_qty": "1",
            "price_minor": 1206,
            "currency": "EUR",
            "valid_from": "2027-01-01",
            "valid_to": None,
        },
        {
            "source": "assigned_list",
            "origin": "DEALERS-2027",
            "price_list": "DEALERS-2027",
            "derived_from_matrix": False,
            "min_qty": "50",
            "price_minor": 1062,
            "currency": "EUR",
            "valid_from": "2027-01-01",
            "valid_to": None,
        },
        {
            "source": "base_list",
            "origin": "BASE",
            "price_list": "BASE",
            "derived_from_matrix": False,
            "min_qty": "1",
            "price_minor": 1250,
            "currency": "EUR",
            "valid_from": None,
            "valid_to": None,
        },
        {
            "source": "base_list",
            "origin": "BASE",
            "price_list": "BASE",
            "derived_from_matrix": False,
            "min_qty": "50",
            "price_minor": 1100,
            "currency": "EUR",
            "valid_from": None,
            "valid_to": None,
        },
    ],
    "discounts": {"client_percent": "5", "ladder_percent": "0", "promotion_percent": "0"},
}


@examples(EXPLAINED)
class BuyerExplanation(BaseModel):
    """The decision as a client's people get it: no floor, no segments (`shared.audience`)."""

    client_id: uuid.UUID
    sku: str
    quantity: Decimal
    currency: str
    date: dt.date
    unit_price_minor: int | None
    list_price_minor: int | None
    base_price_minor: int | None = Field(description="The base list's price for this quantity")
    rule: str
    next_tier: NextTier | None
    steps: list[Step] = Field(description="The decision, in order")
    losers: list[Loser] = Field(description="Candidates that did not win, and why")
    replaced_by_contract: list[Candidate] = Field(
        description="Matrix-list prices a contract row of the same tier replaces"
    )
    candidates: list[Candidate] = Field(description="Every price row considered")
    discounts: dict[str, str]


@examples({**EXPLAINED, "floor_minor": 950, "segment_assignments": []})
class Explanation(BuyerExplanation):
    """The decision as staff get it: with the SKU's floor and the segments behind the client's
    lists and discounts."""

    floor_minor: int | None
    segment_assignments: list[SegmentAssignmentRead] = Field(
        description="Lists and discounts segment rules gave the client, with the segments "
        "that caused each"
    )


class LevelRead(BaseModel):
    threshold_minor: int
    discount_percent: Decimal
    bonus_percent: Decimal


class ProgressRead(BaseModel):
    client_id: uuid.UUID
    ladder: str | None
    period: str | None
    currency: str | None
    turnover_minor: int = Field(description="Turnover this period, from placed orders")
    current_level: LevelRead | None
    next_level: LevelRead | None
    left_minor: int | None = Field(description="Turnover still needed for the next level")
    bonus_minor: int = Field(description="Retro bonus accrued at the current level")
