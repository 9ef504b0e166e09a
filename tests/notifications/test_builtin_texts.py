"""The built-in messages read as people write figures, in the message's language: money in
units of its currency, percentages, dates; never raw minor units, fractions or ISO dates."""

from __future__ import annotations

import re

import pytest

from services.notifications.domain import templates
from services.notifications.usecases.builtins import builtin_templates

ALL_TEMPLATES = builtin_templates()
NBSP, NNBSP = "\xa0", "\u202f"
VARIANTS = [(key, locale) for key, (_, variants) in ALL_TEMPLATES.items() for locale in variants]


def rendered(key: str, locale: str) -> str:
    sample, variants = ALL_TEMPLATES[key]
    subject, body = variants[locale]
    out = templates.render(subject, body, sample, strict=True, locale=locale)
    return out.subject + "\n" + out.body


@pytest.mark.parametrize(("key", "locale"), VARIANTS)
def test_no_builtin_shows_a_raw_figure(key, locale):
    text = rendered(key, locale)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), text  # an ISO date
    assert not re.search(r"\b0\.\d+\b", text), text  # a share as a fraction
    # minor units (every sample amount is >= 100.00); not the digits of an order number or id
    assert not re.search(r"(?<![\w-])\d{5,}(?![\w-])", text), text
    assert not re.search(r"[.\w]https?://", text), text  # a line break swallowed


def test_money_percentages_and_dates_in_the_recipients_language():
    assert "€4,200.00 overdue since Nov 10, 2026." in rendered("overdue_reminder", "en")
    russian = rendered("overdue_reminder", "ru")
    assert f"4{NBSP}200,00{NBSP}€ с 10 нояб. 2026{NNBSP}г. Пожалуйста" in russian  # noqa: RUF001
    assert "passed 30% of our EUR sales (now 34%)" in rendered("concentration_alert", "en")
    assert f"(сейчас 34{NBSP}%)" in rendered("concentration_alert", "ru")
    assert "€11.50 → €12.50 (8.7%)" in rendered("regular_prices_changed", "en")
    assert "since Nov 19, 2026, 10:00" in rendered("webhook_paused", "en")
