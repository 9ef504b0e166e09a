"""Message templates: Jinja2 in a sandbox (an admin's template cannot reach Python), one per
key and locale, subject and body; the recipient's locale, then the default, then any.

Figures are shown for people in the template's locale by the kernel's filters
(`shared/display.py`): `{{ event.total_minor | money(event.currency) }}` (minor units by the
currency's ISO 4217 digits), `{{ event.share | percent }}` (a fraction), `{{ x | number }}`,
`{{ event.valid_until | day }}`, `{{ event.failing_since | moment }}`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from shared import display

LOCALES = ("ru", "en")
LINE = re.compile(r"[ \t\r\n\f\v]+")


class TemplateProblem(ValueError):
    """A template that does not compile or render (bad syntax, a field the sample lacks)."""


def _environment(strict: bool) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined if strict else ChainableUndefined,
        autoescape=False,  # plain-text email and inbox bodies
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return display.install(env)


_LENIENT = _environment(strict=False)
_STRICT = _environment(strict=True)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def render(
    subject: str,
    body: str,
    context: Mapping[str, Any],
    *,
    strict: bool = False,
    locale: str | None = None,
) -> Rendered:
    """Render one template in `locale` (its figures and dates). strict: a missing field is an
    error (previews and saving); otherwise it renders empty, so a message is never lost to a
    field an event lacks."""
    env = _STRICT if strict else _LENIENT
    context = {**context, "locale": locale or display.DEFAULT_LOCALE}
    try:
        return Rendered(
            # one line; a figure's no-break spaces (4 200,00 €) stay unbroken
            subject=LINE.sub(" ", env.from_string(subject).render(context)).strip(),
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
