"""The client card: typed custom fields per client type, checked before they are stored."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, model_validator

from shared.fields import MAX_MINOR, MULTI_LINE, SINGLE_LINE, line, plain_decimal
from shared.problems import FieldError

MAX_CARD_DIGITS = 30
SINGLE_LINE_TEXT = re.compile(SINGLE_LINE)
MULTI_LINE_TEXT = re.compile(MULTI_LINE)


class FieldType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    CHOICE = "choice"  # one of `choices`
    LIST = "list"  # a list of short texts, e.g. suppliers the client uses


class CardField(BaseModel):
    """One field of the card of a client type: what the seller knows of the client."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    label: line(200, min_length=1)
    type: FieldType
    required: bool = False
    choices: list[line(200, min_length=1)] | None = Field(None, max_length=200)
    unit: line(32) | None = Field(None, description="e.g. t/year, m2")

    @model_validator(mode="after")
    def _choices_only_for_choice(self) -> CardField:
        if (self.type == FieldType.CHOICE) != bool(self.choices):
            raise ValueError("choices are required for, and only for, a choice field")
        return self


def _coerce(field: CardField, value: Any) -> Any:
    """The stored JSON form of `value`, or ValueError with the reason."""
    match field.type:
        case FieldType.TEXT:
            if not isinstance(value, str) or len(value) > 2000 or not MULTI_LINE_TEXT.match(value):
                raise ValueError("must be a text of at most 2000 characters")
            return value
        case FieldType.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError("must be a whole number")
            if abs(value) > MAX_MINOR:
                raise ValueError(f"must be between -{MAX_MINOR:,} and {MAX_MINOR:,}")
            return value
        case FieldType.DECIMAL:
            number = None if isinstance(value, bool) else plain_decimal(str(value))
            if number is None or len(number.as_tuple().digits) > MAX_CARD_DIGITS:
                raise ValueError("must be a decimal number")
            return str(number)  # kept as text: JSON floats would lose digits
        case FieldType.BOOLEAN:
            if not isinstance(value, bool):
                raise ValueError("must be true or false")
            return value
        case FieldType.DATE:
            try:
                return date.fromisoformat(value).isoformat()
            except (TypeError, ValueError) as exc:
                raise ValueError("must be a date, YYYY-MM-DD") from exc
        case FieldType.CHOICE:
            if value not in (field.choices or []):
                raise ValueError(f"must be one of: {', '.join(field.choices or [])}")
            return value
        case FieldType.LIST:
            if not isinstance(value, list) or not all(
                isinstance(v, str) and 0 < len(v) <= 200 and SINGLE_LINE_TEXT.match(v)
                for v in value
            ):
                raise ValueError("must be a list of texts")
            return value


def validate_card(
    fields: list[CardField], values: dict[str, Any]
) -> tuple[dict[str, Any], list[FieldError]]:
    """(clean values, errors): unknown keys, missing required fields and wrong types are errors."""
    by_key = {f.key: f for f in fields}
    clean: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key, value in values.items():
        field = by_key.get(key)
        if field is None:
            errors.append(
                FieldError(field=f"card.{key}", message="no such field for this client type")
            )
            continue
        if value is None:
            continue
        try:
            clean[key] = _coerce(field, value)
        except ValueError as exc:
            errors.append(FieldError(field=f"card.{key}", message=str(exc)))
    for field in fields:
        if field.required and field.key not in clean:
            errors.append(FieldError(field=f"card.{field.key}", message="is required"))
    return clean, errors
