"""A database seeded before the built-in templates showed figures for people gets the new
texts from migration notifications_0009; a built-in an admin edited keeps the admin's text."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy.engine import make_url

from services.notifications.usecases.builtins import builtin_templates
from shared.migrations import upgrade
from shared.runtime import create_database, service_database_url

# overdue_reminder/en as notifications_0003 seeded it before
SEEDED = (
    "Overdue payment: {{ event.overdue_minor | money(event.currency) }}",
    "{{ company.legal_name }} has {{ event.overdue_minor | money(event.currency) }} "
    "overdue since {{ event.oldest_overdue_date }}. Please pay to keep ordering.",
)
EDITED = ("Debt", "Pay {{ event.overdue_minor }} please")


def run(url: str, *statements: tuple[str, ...]) -> list:
    async def go() -> list:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn)
        try:
            return [await conn.fetch(sql, *args) for sql, *args in statements]
        finally:
            await conn.close()

    return asyncio.run(go())


def test_seeded_templates_get_the_new_texts_and_edited_ones_stay(infra):
    url = service_database_url(infra[0], "notifications", "_template_migration_test")
    asyncio.run(create_database(url, drop_first=True))
    upgrade("notifications", url, "notifications_0008")
    set_text = "UPDATE templates SET subject = $3, body = $4 WHERE key = $1 AND locale = $2"
    run(
        url,
        (set_text, "overdue_reminder", "en", *SEEDED),
        (set_text, "overdue_reminder", "ru", *EDITED),
    )
    upgrade("notifications", url, "notifications_0009")
    rows = run(url, ("SELECT locale, subject, body FROM templates WHERE key = 'overdue_reminder'",))
    now = {r["locale"]: (r["subject"], r["body"]) for r in rows[0]}
    assert now == {"en": builtin_templates()["overdue_reminder"][1]["en"], "ru": EDITED}
    assert "{{ event.oldest_overdue_date | day }}" in now["en"][1]
