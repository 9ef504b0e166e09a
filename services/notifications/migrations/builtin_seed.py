"""Seeds a migration's built-in rules and templates from its frozen copy in `seed/`.

Migrations use only this and their copies, never the live `rules.json` and `templates/`: a
revision means the same on a fresh database whatever the live files say later. The tables are
described here, not taken from the models, so an old migration keeps working when a later one
adds a column."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

SEED = Path(__file__).resolve().parent / "seed"


def frozen(revision: str) -> dict[str, list[dict[str, Any]]]:
    """The rules and templates one revision seeds."""
    return json.loads((SEED / f"{revision}.json").read_text())


def seed(op: Any, revision: str) -> None:
    """Insert a revision's built-ins (`op` is alembic's)."""
    data = frozen(revision)
    text, json_ = sa.Text(), JSONB()
    rule_table = sa.table(
        "rules",
        sa.column("id", sa.Uuid()),
        *(sa.column(c, sa.String()) for c in ("code", "event_type", "audience", "channel")),
        *(sa.column(c, sa.String()) for c in ("kind", "template", "thread")),
        sa.column("description", text),
        *(sa.column(c, json_) for c in ("conditions", "schedule", "dedupe", "cancel_on")),
        sa.column("builtin", sa.Boolean()),
    )
    op.bulk_insert(rule_table, [{**r, "id": uuid.UUID(r["id"])} for r in data["rules"]])
    template_table = sa.table(
        "templates",
        *(sa.column(c, sa.String()) for c in ("key", "locale")),
        *(sa.column(c, text) for c in ("subject", "body")),
        sa.column("sample", json_),
    )
    op.bulk_insert(template_table, data["templates"])


def unseed(op: Any, revision: str) -> None:
    """Delete a revision's built-ins again (its downgrade)."""
    data = frozen(revision)
    codes = [r["code"] for r in data["rules"]]
    keys = sorted({t["key"] for t in data["templates"]})
    op.execute(sa.text("DELETE FROM rules WHERE code = ANY(:codes)").bindparams(codes=codes))
    op.execute(sa.text("DELETE FROM templates WHERE key = ANY(:keys)").bindparams(keys=keys))
