"""Figures as people read them: money by the ISO 4217 digits of its currency, in the reader's
locale; percentages, numbers, times; the same as Jinja filters."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from jinja2 import ChainableUndefined, Environment, StrictUndefined, UndefinedError

from shared import display

NBSP = "\xa0"


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "shown"),
    [
        (420000, "EUR", "en", "€4,200.00"),
        (420000, "EUR", "ru", f"4{NBSP}200,00{NBSP}€"),
        (420000, "EUR", "de", f"4.200,00{NBSP}€"),
        (5000, "JPY", "en", "¥5,000"),  # no minor unit: 5000 yen
        (1234567, "KWD", "en", "KWD1,234.567"),  # three digits: fils
        (-1999, "USD", "en", "-$19.99"),
        (7, "RUB", "ru", f"0,07{NBSP}₽"),
    ],
)
def test_money_counts_the_minor_units_of_its_currency(minor, currency, locale, shown):
    assert display.money(minor, currency, locale=locale) == shown


def test_minor_units_come_from_iso_4217():
    assert [display.minor_exponent(c) for c in ("EUR", "JPY", "KWD", "CLP", "BHD", "eur")] == [
        2,
        0,
        3,
        0,
        3,
        2,
    ]
    assert display.minor_exponent("XXX") == 0 and display.minor_exponent("ZZZ") == 0


def test_percentages_numbers_and_times():
    assert display.percent(1 / 3) == "33.3%" and display.percent(1.0) == "100%"
    assert display.percent(0.375, locale="ru") == f"37,5{NBSP}%"
    assert display.percent("0.35", 0) == "35%"  # events carry decimals as text
    assert display.number(1234.5678) == "1,234.57" and display.number(0.2345, 4) == "0.2345"
    moment = datetime(2026, 12, 6, 9, 10, 33, 123456, tzinfo=UTC)
    assert display.moment(moment) == "Dec 6, 2026, 9:10\u202fAM UTC"  # no seconds, no micros
    assert display.moment("2026-12-06T09:10:33.123456+00:00", locale="ru") == (
        "6 дек. 2026\u202fг., 09:10 UTC"  # noqa: RUF001
    )
    assert display.day(date(2026, 11, 10)) == "Nov 10, 2026"
    assert display.month("2026-07") == "Jul 2026"


def test_an_unknown_figure_is_a_dash_and_anything_else_is_shown_as_it_is():
    assert display.money(None, "EUR") == display.percent(None) == display.number(None) == "–"  # noqa: RUF001
    assert display.money("n/a", "EUR") == "n/a"
    assert display.moment(None) == "–"  # noqa: RUF001


def test_the_readers_language_from_accept_language():
    assert display.locale_of("ru-RU,ru;q=0.9,en;q=0.8") == "ru_RU"
    assert display.locale_of("xx-YY, de;q=0.5") == "de"
    assert display.locale_of(None) == display.locale_of("*") == "en"


def test_jinja_filters_read_the_templates_locale():
    env = display.install(Environment(undefined=ChainableUndefined))
    template = env.from_string(
        "{{ amount | money(currency) }} | {{ share | percent }} | {{ at | day }} | "
        "[{{ event.missing | money(currency) }}]"
    )
    context = {"amount": 420000, "currency": "EUR", "share": 0.34, "at": "2026-11-10"}
    assert template.render(context) == "€4,200.00 | 34% | Nov 10, 2026 | []"
    assert template.render(context, locale="ru") == (
        f"4{NBSP}200,00{NBSP}€ | 34{NBSP}% | 10 нояб. 2026\u202fг. | []"  # noqa: RUF001
    )
    strict = display.install(Environment(undefined=StrictUndefined))
    with pytest.raises(UndefinedError):
        strict.from_string("{{ missing | money('EUR') }}").render()
