"""Typed product attributes: what a filter like `attr.width_mm=100..200` means.

Plain Python, no database: the store turns a parsed condition into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

ATTRIBUTE_NAME = r"[a-z][a-z0-9_]{0,63}"
MAX_VALUES = 20  # attr.color=red,blue,... : more is a mistake, not a filter


class AttributeType(StrEnum):
    NUMBER = "number"
    TEXT = "text"
    BOOL = "bool"

    @property
    def json_type(self) -> str:
        """What `jsonb_typeof` answers for a value of this type."""
        return {"number": "number", "text": "string", "bool": "boolean"}[self.value]


@dataclass(frozen=True)
class AttributeCondition:
    """Products whose attribute `name` is one of `values` (text, bool) or within
    [`low`, `high`] (number; an open end is None)."""

    name: str
    type: AttributeType
    values: tuple[str | bool, ...] = ()
    low: Decimal | None = None
    high: Decimal | None = None


class BadFilter(ValueError):
    """The filter's text does not fit the attribute's type; the message says why."""


def _number(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise BadFilter(f"{text!r} is not a number") from exc
    if not value.is_finite():
        raise BadFilter(f"{text!r} is not a number")
    return value


def parse_condition(name: str, type_: AttributeType, raw: str) -> AttributeCondition:
    """`raw` as typed in the query: `red` or `red,blue` (text), `true` (bool), `100`, `100..200`,
    `100..` or `..200` (number, ends included)."""
    raw = raw.strip()
    if not raw:
        raise BadFilter("is empty")
    if type_ == AttributeType.NUMBER:
        if ".." not in raw:
            exact = _number(raw)
            return AttributeCondition(name, type_, low=exact, high=exact)
        low_text, _, high_text = raw.partition("..")
        low = _number(low_text) if low_text.strip() else None
        high = _number(high_text) if high_text.strip() else None
        if low is None and high is None:
            raise BadFilter("a range needs at least one end, e.g. 100..200, 100.. or ..200")
        if low is not None and high is not None and low > high:
            raise BadFilter(f"the range {raw} is empty: {low} is above {high}")
        return AttributeCondition(name, type_, low=low, high=high)
    values = [v.strip() for v in raw.split(",") if v.strip()]
    if len(values) > MAX_VALUES:
        raise BadFilter(f"at most {MAX_VALUES} values")
    if type_ == AttributeType.BOOL:
        truth = {"true": True, "false": False}
        if any(v.lower() not in truth for v in values):
            raise BadFilter("must be true or false")
        return AttributeCondition(name, type_, values=tuple(truth[v.lower()] for v in values))
    return AttributeCondition(name, type_, values=tuple(values))
