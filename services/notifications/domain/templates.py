"""Message templates: Jinja2 in a sandbox (an admin's template cannot reach Python), one per
key and locale, subject and body; the recipient's locale, then the default, then any."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

LOCALES = ("ru", "en")


class TemplateProblem(ValueError):
    """A template that does not compile or render (bad syntax, a field the sample lacks)."""


def money(minor: Any, currency: str = "") -> str:
    """12345, "EUR" -> "123.45 EUR" (minor units, two decimals)."""
    try:
        value = Decimal(int(minor)) / 100
    except (TypeError, ValueError):
        return str(minor)
    return f"{value:,.2f} {currency}".replace(",", " ").strip()


def _environment(strict: bool) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined if strict else ChainableUndefined,
        autoescape=False,  # plain-text email and inbox bodies
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    return env


_LENIENT = _environment(strict=False)
_STRICT = _environment(strict=True)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def render(
    subject: str, body: str, context: Mapping[str, Any], *, strict: bool = False
) -> Rendered:
    """Render one template. strict: a missing field is an error (previews and saving);
    otherwise it renders empty, so a message is never lost to a field an event lacks."""
    env = _STRICT if strict else _LENIENT
    try:
        return Rendered(
            subject=" ".join(env.from_string(subject).render(context).split()),
            body=env.from_string(body).render(context).strip() + "\n",
        )
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from exc


def check(subject: str, body: str) -> None:
    """Compile both parts; raise TemplateProblem with Jinja's message if either is broken."""
    try:
        _STRICT.parse(subject)
        _STRICT.parse(body)
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from exc


def pick_locale(wanted: str | None, available: set[str], default: str) -> str | None:
    for locale in (wanted, default, *sorted(available)):
        if locale and locale in available:
            return locale
    return None
