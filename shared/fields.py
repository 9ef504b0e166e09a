"""Field types for what clients send: every number bounded, every decimal parsed strictly, every
code a real ISO 4217 currency or free of control characters, every date in a business range.

Request schemas and query parameters of every service use these, so bad input is refused at
the edge with a 422 naming the field, and never reaches the database as an overflow or a
silently reinterpreted value (`"1_000"` read as 1000, `NaN` as a default, 9999-12-31).

The ranges:
- money: 0 .. 999,999,999,999,999 minor units (15 digits). Every such amount is exact as a
  JavaScript number or a float64 (below 2**53), and a PostgreSQL BIGINT (about 9.2e18) still
  holds the sum of 9,000 of them, so totals, turnovers and SQL sums have headroom.
- counts and small ids: 0 .. 2**31 - 1 (PostgreSQL INTEGER); BIGINT ids up to 2**63 - 1.
- quantities: up to 999,999,999.999 with at most 3 places (NUMERIC(18, 3) columns hold them
  and sums of them). Text must be plain ASCII digits with an optional point: no underscores,
  exponents, spaces, other scripts' digits, NaN or Infinity.
- business dates and times: from 2000-01-01 to 2100-12-31; times need an offset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any

import iso4217
from pydantic import (
    AfterValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from shared.clock import utcnow
from shared.problems import FieldError, Unprocessable

MAX_MINOR = 999_999_999_999_999
MAX_COUNT = 2**31 - 1
MAX_BIGINT = 2**63 - 1
QUANTITY_PLACES = 3
MAX_QUANTITY = Decimal("999999999.999")
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
# Clocks of ERP systems drift: an event "now" may carry a time slightly ahead of ours.
CLOCK_SKEW = timedelta(days=1)

# Active ISO 4217 codes that have minor units (so not gold, SDRs or the testing code XTS),
# from the maintained `iso4217` package (the official list as published by SIX).
CURRENCIES = frozenset(c.code for c in iso4217.Currency if c.exponent is not None)

# Control characters (C0, DEL, C1) have no place in a code or a name; free text keeps tabs and
# line breaks. As JSON Schema patterns, so the OpenAPI documents say it too.
SINGLE_LINE = r"^[^\x00-\x1f\x7f-\x9f]*$"
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"


def refuse_oversized(amount_minor: int, field: str, row: int | None = None) -> None:
    """Bounded prices times bounded quantities can still come to more than an amount may be
    (a line total, an order total): 422 naming the field, before anything is stored."""
    if not -MAX_MINOR <= amount_minor <= MAX_MINOR:
        raise Unprocessable(
            "The total is larger than the largest amount allowed; nothing was changed.",
            errors=[FieldError(field=field, message=f"comes to more than {MAX_MINOR:,}", row=row)],
        )


MinorUnits = Annotated[int, Field(ge=0, le=MAX_MINOR, description="Minor units (cents)")]
PositiveMinorUnits = Annotated[int, Field(gt=0, le=MAX_MINOR, description="Minor units (cents)")]
SignedMinorUnits = Annotated[
    int, Field(ge=-MAX_MINOR, le=MAX_MINOR, description="Minor units (cents); may be negative")
]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
BigId = Annotated[int, Field(ge=1, le=MAX_BIGINT)]


_PLAIN = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def plain_decimal(text: str) -> Decimal | None:
    """A decimal typed by a person (a pasted list, a CSV cell), or None when it is not plainly
    one: `1_000`, `1e3`, `NaN`, `Infinity` and digits of other scripts are not."""
    return Decimal(text) if _PLAIN.fullmatch(text) else None


@dataclass(frozen=True)
class _PlainDecimal:
    """Text for a decimal is ASCII digits with an optional sign and point, nothing else.

    pydantic reads `"1_000"`, digits of other scripts, `" 5 "` and `"1e3"` as numbers; a person who typed
    them meant something else, so they are refused. JSON numbers stay numbers."""

    signed: bool

    @property
    def pattern(self) -> str:
        return r"^-?[0-9]+(\.[0-9]+)?$" if self.signed else r"^[0-9]+(\.[0-9]+)?$"

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        plain = re.compile(self.pattern)

        def check(value: Any) -> Any:
            if isinstance(value, str) and not plain.fullmatch(value):
                raise ValueError("must be a plain decimal number such as 12 or 12.5")
            return value

        return core_schema.no_info_before_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        found = handler(schema)
        for branch in found.get("anyOf", []):
            if branch.get("type") == "string":
                branch["pattern"] = self.pattern
        return found


def decimal(
    *,
    places: int,
    le: Decimal | int,
    gt: Decimal | int | None = None,
    ge: Decimal | int | None = None,
) -> Any:
    """A strictly parsed Decimal in (gt | ge) .. le with at most `places` places."""
    digits = len(str(int(abs(Decimal(le))))) + places
    signed = (gt is not None and gt < 0) or (ge is not None and ge < 0)
    return Annotated[
        Decimal,
        Field(gt=gt, ge=ge, le=le, max_digits=digits, decimal_places=places),
        _PlainDecimal(signed),
    ]


Quantity = decimal(places=QUANTITY_PLACES, gt=0, le=MAX_QUANTITY)
QuantityOrZero = decimal(places=QUANTITY_PLACES, ge=0, le=MAX_QUANTITY)


def _currency(value: str) -> str:
    if value not in CURRENCIES:
        raise ValueError("is not an ISO 4217 currency code")
    return value


CurrencyCode = Annotated[
    str,
    Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code, e.g. EUR"),
    AfterValidator(_currency),
]


def code(max_length: int = 64, min_length: int = 1) -> Any:
    """An identifier a person or ERP chose (SKU, list code, ERP id): one line of printable
    characters."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length, pattern=SINGLE_LINE)]


def line(max_length: int, min_length: int = 0) -> Any:
    """A name, a label, a title: one line without control characters."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length, pattern=SINGLE_LINE)]


def multiline(max_length: int, min_length: int = 0) -> Any:
    """Free text over lines (a comment, a message; `line` is one line): line breaks and tabs,
    no other control characters. A feed column says the same with `multiline=True`."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length, pattern=MULTI_LINE)]


Code = code()
Sku = code(64)
Reference = code(100)  # ERP ids and numbers, external references


def _business_day(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
    return value


def _business_time(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a timezone (UTC: end with Z)")
    _business_day(value.astimezone(UTC).date())
    return value


def _not_ahead(value: datetime) -> datetime:
    if value > utcnow() + CLOCK_SKEW:
        raise ValueError("is in the future")
    return value


# A calendar month, YYYY-MM, within the business years.
MONTH = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"
Month = Annotated[str, Field(pattern=MONTH, description="YYYY-MM, 2000-01 to 2100-12")]

BusinessDate = Annotated[
    date,
    AfterValidator(_business_day),
    Field(description=f"A day from {FIRST_DAY} to {LAST_DAY}"),
]
Timestamp = Annotated[
    datetime,
    AfterValidator(_business_time),
    Field(description=f"ISO 8601 with an offset, from {FIRST_DAY} to {LAST_DAY}"),
]
# When something happened (an order placed in ERP, a delivery): not later than now.
PastTimestamp = Annotated[
    datetime,
    AfterValidator(_business_time),
    AfterValidator(_not_ahead),
    Field(description="ISO 8601 with an offset; when it happened, so not in the future"),
]


def _wall_clock(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("is a local time of day: give no offset (the time zone is set apart)")
    return value.replace(microsecond=0)


# A time of day on the wall clock of a place whose zone is given apart (quiet hours): an offset
# would be wrong half the year where clocks change, so there is none, in or out. The JSON
# Schema says so with a pattern: `format: time` (RFC 3339) requires an offset.
LOCAL_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
LocalTime = Annotated[
    time,
    AfterValidator(_wall_clock),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": LOCAL_TIME,
            "description": "Local time of day, HH:MM or HH:MM:SS, without an offset",
            "examples": ["22:00"],
        }
    ),
]
