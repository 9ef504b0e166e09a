"""What an attribute filter means: plain rules, no server."""

from decimal import Decimal

import pytest

from services.catalog.domain.attributes import AttributeType, BadFilter, parse_condition


def test_number_filters_are_exact_values_or_ranges_with_open_ends():
    exact = parse_condition("w", AttributeType.NUMBER, "100")
    assert (exact.low, exact.high) == (Decimal(100), Decimal(100))
    between = parse_condition("w", AttributeType.NUMBER, "100..200.5")
    assert (between.low, between.high) == (Decimal(100), Decimal("200.5"))
    assert parse_condition("w", AttributeType.NUMBER, "100..").high is None
    assert parse_condition("w", AttributeType.NUMBER, "..200").low is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("abc", "not a number"), ("..", "at least one end"), ("5..1", "is empty"), ("nan", "number")],
)
def test_bad_number_filters_say_why(raw, reason):
    with pytest.raises(BadFilter, match=reason):
        parse_condition("w", AttributeType.NUMBER, raw)


def test_text_takes_any_of_several_values_and_bool_only_true_or_false():
    assert parse_condition("c", AttributeType.TEXT, "red, blue").values == ("red", "blue")
    assert parse_condition("f", AttributeType.BOOL, "TRUE").values == (True,)
    with pytest.raises(BadFilter, match="true or false"):
        parse_condition("f", AttributeType.BOOL, "yes please")
