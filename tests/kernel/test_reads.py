"""shared.reads.read_of: a read model from a stored row's attributes, the rest given."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import BaseModel, ValidationError

from shared.reads import read_of


class ThingRead(BaseModel):
    code: str
    size: int
    label: str


def test_fields_come_from_the_row_unless_given():
    row = SimpleNamespace(code="A", size=3, label="stored", secret="never read")
    assert read_of(ThingRead, row) == ThingRead(code="A", size=3, label="stored")
    assert read_of(ThingRead, row, label="given").label == "given"


def test_the_row_is_validated_as_an_answer_would_be():
    with pytest.raises(ValidationError):
        read_of(ThingRead, SimpleNamespace(code="A", size="three", label="x"))
    with pytest.raises(AttributeError):
        read_of(ThingRead, SimpleNamespace(code="A", label="x"))
