"""Answers built from stored rows: a read model takes the row's attributes named as its
fields, and the caller gives the fields a row does not hold (derived, renamed, nested)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

Read = TypeVar("Read", bound=BaseModel)


def read_of(model: type[Read], row: Any, **fields: Any) -> Read:
    """`model` from `row`'s attributes of the same names, and `fields` for the rest."""
    stored = {name: getattr(row, name) for name in model.model_fields.keys() - fields.keys()}
    return model.model_validate(stored | fields)
