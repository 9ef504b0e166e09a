"""The kernel's field types and upload check, as plain code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.clock import utcnow
from shared.fields import (
    MAX_MINOR,
    Code,
    CurrencyCode,
    MinorUnits,
    PastTimestamp,
    Quantity,
    plain_decimal,
)
from shared.files import CSV, JPEG, PDF, PNG, XLSX, XML, content_problem


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (
            Quantity,
            ["1", "0.5", "999999999.999", 12, 1.5],
            [
                "1_000",
                "1e3",
                "NaN",
                "Infinity",
                " 1",
                "+1",
                "1.",
                ".5",
                "0",
                "1.0001",
                "1000000000",
                "\uff11",
            ],
        ),
        (MinorUnits, [0, MAX_MINOR], [-1, MAX_MINOR + 1, 2**63]),
        (CurrencyCode, ["EUR", "RUB", "JPY", "KWD"], ["AAA", "eur", "XTS", "XAU", "EURO"]),
        (Code, ["KN-100", "Плитка 1"], ["", "A\x00B", "A\nB", "A\x1b[0m", "A\x85", "x" * 65]),
    ],
)
def test_field_types_take_the_good_and_refuse_the_bad(kind, good, bad):
    adapter = TypeAdapter(kind)
    for value in good:
        adapter.validate_python(value)
    for value in bad:
        with pytest.raises(ValidationError):
            adapter.validate_python(value)


def test_a_past_timestamp_is_not_in_the_future_nor_out_of_the_business_years():
    adapter = TypeAdapter(PastTimestamp)
    adapter.validate_python(utcnow().isoformat())
    for value in (
        (utcnow() + timedelta(days=2)).isoformat(),
        "9999-12-31T00:00:00Z",
        "1999-12-31T23:59:59Z",
        "2026-01-01T00:00:00",  # no offset
    ):
        with pytest.raises(ValidationError):
            adapter.validate_python(value)


def test_plain_decimal_reads_only_plain_digits():
    assert plain_decimal("12.5") == plain_decimal("12.50")
    assert [plain_decimal(t) for t in ("1_000", "1e3", "NaN", "12\n", "")] == [None] * 5


@pytest.mark.parametrize(
    ("content_type", "good", "bad"),
    [
        (PDF, b"%PDF-1.7\n...", b"<html><body>not a pdf</body></html>"),
        (PNG, b"\x89PNG\r\n\x1a\n....", b"GIF89a...."),
        (JPEG, b"\xff\xd8\xff\xe0....", b"%PDF-1.4"),
        (XLSX, b"PK\x03\x04....", b"sku,quantity\n"),
        (CSV, "sku,name\nA,Плитка\n".encode(), b"\n<!DOCTYPE html><script>x</script>"),
        (CSV, b"a,b\n1,2\n", b"a,b\x00\x01binary"),
        (XML, b'<?xml version="1.0"?><invoice/>', b"plain text"),
    ],
)
def test_an_upload_is_what_its_first_bytes_say(content_type, good, bad):
    assert content_problem(content_type, good) is None
    assert content_problem(content_type, bad) is not None


def test_a_character_cut_at_the_end_of_the_sample_is_still_text():
    assert content_problem(CSV, "a,Плитка".encode()[:-1]) is None
