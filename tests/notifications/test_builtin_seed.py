"""A fresh database holds exactly the built-ins of the live files (`rules.json`,
`templates/<locale>/*.j2`), though its migrations seed from their own frozen copies; taking
the seeding migrations down and up again gives the same rows."""

from __future__ import annotations

import asyncio
import json

import asyncpg
from alembic import command
from sqlalchemy.engine import make_url

from services.notifications.usecases.builtins import rule_rows, template_rows
from shared.migrations import alembic_config, upgrade
from shared.runtime import create_database, service_database_url

RULE_COLUMNS = [*rule_rows()[0]]
JSON_COLUMNS = {"conditions", "schedule", "dedupe", "cancel_on", "sample"}


def stored(url: str) -> tuple[list[dict], list[dict]]:
    async def go() -> tuple[list[dict], list[dict]]:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn)
        try:
            rules = await conn.fetch(f"SELECT {', '.join(RULE_COLUMNS)} FROM rules ORDER BY code")
            templates = await conn.fetch(
                "SELECT key, locale, subject, body, sample FROM templates ORDER BY key, locale"
            )
        finally:
            await conn.close()
        return [decoded(r) for r in rules], [decoded(t) for t in templates]

    return asyncio.run(go())


def decoded(row: asyncpg.Record) -> dict:
    return {k: json.loads(v) if k in JSON_COLUMNS and v is not None else v for k, v in row.items()}


def expected() -> tuple[list[dict], list[dict]]:
    rules = sorted(rule_rows(), key=lambda r: r["code"])
    templates = sorted(template_rows(), key=lambda t: (t["key"], t["locale"]))
    return rules, templates


def test_a_fresh_database_holds_the_builtins_of_the_files(infra):
    url = service_database_url(infra[0], "notifications", "_builtin_seed_test")
    asyncio.run(create_database(url, drop_first=True))
    upgrade("notifications", url)
    rules, templates = stored(url)
    assert len(rules) == 42 and len(templates) == 74
    assert (rules, templates) == expected()

    command.downgrade(alembic_config("notifications", url), "notifications_0002")
    assert stored(url) == ([], [])
    upgrade("notifications", url)
    assert stored(url) == expected()
