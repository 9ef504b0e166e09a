"""The built-in rules and templates as files: `rules.json` and `templates/<locale>/<key>.j2`
(the subject on the first line, a blank line, then the body), with each template's preview
sample in `templates/samples.json`.

These are what a fresh database holds: the migrations seeded the same rows from their own
frozen copies (`migrations/seed/`), so editing a file here changes no history; a change meant
for existing databases is a new migration."""

from __future__ import annotations

import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.store.models import Rule, Template

HERE = Path(__file__).resolve().parent.parent
TEMPLATES = HERE / "templates"


def rule_id(code: str) -> uuid.UUID:
    """A built-in rule's id, the same in every database."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "b2b:rule:" + code)


@cache
def builtin_rules() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads((HERE / "rules.json").read_text()))


def parse_template(text: str) -> tuple[str, str]:
    """(subject, body) of a template file; the file's last line break is not the body's."""
    subject, _, body = text.removesuffix("\n").partition("\n\n")
    return subject, body


@cache
def builtin_templates() -> dict[str, tuple[dict[str, Any], dict[str, tuple[str, str]]]]:
    """key -> (sample, {locale: (subject, body)})."""
    samples = json.loads((TEMPLATES / "samples.json").read_text())
    variants: dict[str, dict[str, tuple[str, str]]] = {key: {} for key in samples}
    for path in sorted(TEMPLATES.glob("*/*.j2")):
        variants[path.stem][path.parent.name] = parse_template(path.read_text())
    return {key: (samples[key], variants[key]) for key in samples}


def rule_rows() -> list[dict[str, Any]]:
    return [{**r, "id": rule_id(r["code"]), "builtin": True} for r in builtin_rules()]


def template_rows() -> list[dict[str, Any]]:
    return [
        {"key": key, "locale": locale, "subject": subject, "body": body, "sample": sample}
        for key, (sample, variants) in builtin_templates().items()
        for locale, (subject, body) in variants.items()
    ]


async def restore_builtins(session: AsyncSession) -> None:
    """Put back the built-in rules and templates a database lacks; what it has stays as is."""
    await session.execute(insert(Rule).values(rule_rows()).on_conflict_do_nothing())
    await session.execute(insert(Template).values(template_rows()).on_conflict_do_nothing())
