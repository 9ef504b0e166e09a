# ruff: noqa: RUF001, RUF002 - the dash and the Russian examples are what people read
"""Numbers, percentages, money and times as people read them, in their locale (Babel, CLDR).

Money is integer minor units and an ISO 4217 code everywhere in the product; the digits of
the minor unit come from ISO 4217 (EUR 2, JPY 0, KWD 3), not from a fixed 100. What a machine
reads (the API's JSON, events, CSV) keeps the raw values; these are for what a person reads:
reports, messages, problem details.

`install(env)` gives a Jinja environment the same functions as filters, reading the locale from the
template's `locale` variable: `{{ amount_minor | money(currency) }}`, `{{ share | percent }}`,
`{{ value | number }}`, `{{ at | moment }}`, `{{ day | day }}`, `{{ first | month }}`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time, get_datetime_format
from babel.numbers import NumberPattern, format_decimal, parse_pattern
from iso4217 import Currency
from jinja2 import Environment, Undefined, pass_context
from jinja2.runtime import Context

DEFAULT_LOCALE = "en"
EMPTY = "–"  # what an unknown figure reads as


@cache
def minor_exponent(currency: str) -> int:
    """Digits of the currency's minor unit by ISO 4217; 0 for a code without one (XXX) or
    unknown (its amounts are then shown as the integers they are)."""
    try:
        return Currency(currency.upper()).exponent or 0
    except ValueError:
        return 0


@cache
def _locale(name: str | None) -> Locale:
    try:
        return Locale.parse((name or DEFAULT_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


def locale_of(accept_language: str | None) -> str:
    """The first language of an Accept-Language header that CLDR knows, else the default."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip()
        if tag and tag != "*":
            try:
                return str(Locale.parse(tag.replace("-", "_")))
            except (UnknownLocaleError, ValueError):
                continue
    return DEFAULT_LOCALE


def _figure(value: Any, show: Callable[[Decimal], str]) -> str:
    """`show` of the value as a Decimal; a dash for None; anything not a number as it is (a
    template's missing field renders empty)."""
    if value is None:
        return EMPTY
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    return show(amount)


@cache
def _pattern(locale: str, kind: str, digits: tuple[int, int]) -> NumberPattern:
    found = _locale(locale)
    raw = found.currency_formats["standard"] if kind == "money" else found.percent_formats[None]
    pattern = copy.copy(parse_pattern(raw))
    pattern.frac_prec = digits
    return pattern


def money(minor: Any, currency: str, *, locale: str | None = DEFAULT_LOCALE) -> str:
    """420000, "EUR" -> "€4,200.00" (en), "4 200,00 €" (ru); 5000, "JPY" -> "¥5,000"."""
    where = _locale(locale)
    exponent = minor_exponent(str(currency))
    pattern = _pattern(str(where), "money", (exponent, exponent))

    def show(amount: Decimal) -> str:
        if amount != amount.to_integral_value():
            return str(amount)  # minor units are whole
        return pattern.apply(
            amount.scaleb(-exponent), where, currency=str(currency), currency_digits=False
        )

    return _figure(minor, show)


def percent(fraction: Any, digits: int = 1, *, locale: str | None = DEFAULT_LOCALE) -> str:
    """0.3333 -> "33.3%" (en), "33,3 %" (ru); 1.0 -> "100%". At most `digits` decimals."""
    where = _locale(locale)
    return _figure(
        fraction, lambda value: _pattern(str(where), "percent", (0, digits)).apply(value, where)
    )


def number(value: Any, digits: int = 2, *, locale: str | None = DEFAULT_LOCALE) -> str:
    """1234.5678 -> "1,234.57" (en), "1 234,57" (ru); at most `digits` decimals."""
    shape = f"#,##0.{'#' * digits}"
    return _figure(
        value, lambda amount: format_decimal(amount, format=shape, locale=_locale(locale))
    )


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            return _when(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def moment(value: Any, *, locale: str | None = DEFAULT_LOCALE) -> str:
    """A time to the minute, in UTC: "Dec 6, 2026, 9:10 AM UTC" (en), "6 дек. 2026 г., 09:10
    UTC" (ru). Accepts an aware datetime or ISO 8601 text."""
    when = _when(value)
    if when is None:
        return EMPTY if value is None else str(value)
    where = _locale(locale)
    when = when.astimezone(UTC)
    shown = (
        get_datetime_format("medium", locale=where)
        .replace("'", "")
        .replace("{0}", format_time(when, "short", tzinfo=UTC, locale=where))
        .replace("{1}", format_date(when.date(), "medium", locale=where))
    )
    return f"{shown} UTC"


def day(value: Any, *, locale: str | None = DEFAULT_LOCALE) -> str:
    """A date: "Nov 10, 2026" (en), "10 нояб. 2026 г." (ru). A date, datetime or ISO text."""
    when = _when(value)
    if when is None:
        return EMPTY if value is None else str(value)
    return format_date(when.date(), "medium", locale=_locale(locale))


def month(value: Any, *, locale: str | None = DEFAULT_LOCALE) -> str:
    """A calendar month: "Jul 2026" (en), "июль 2026 г." (ru); "2026-07" is read too."""
    if isinstance(value, str) and len(value) == len("2026-07"):
        value = value + "-01"
    when = _when(value)
    if when is None:
        return EMPTY if value is None else str(value)
    return format_skeleton("yMMM", when, locale=_locale(locale))


FORMATS = {
    "money": money,
    "percent": percent,
    "number": number,
    "moment": moment,
    "day": day,
    "month": month,
}


def _filter(show: Any) -> Any:
    @pass_context
    def shown(context: Context, value: Any, *args: Any, **kwargs: Any) -> str:
        if isinstance(value, Undefined):
            return str(value)  # empty, or the strict environment's error
        return show(value, *args, locale=context.get("locale") or DEFAULT_LOCALE, **kwargs)

    return shown


def install(env: Environment) -> Environment:
    """The filters of this module on `env`, in the locale of the template's `locale` variable."""
    env.filters.update({name: _filter(show) for name, show in FORMATS.items()})
    return env
