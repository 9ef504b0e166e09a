"""built-in rules and templates (version 1)

Revision ID: notifications_0003
Revises: notifications_0002
Create Date: 2026-11-23 10:50:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from services.notifications.builtin import TEMPLATES, rule_rows, template_rows

revision: str = "notifications_0003"
down_revision: str | None = "notifications_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    rules = sa.table(
        "rules",
        sa.column("id", sa.Uuid()),
        sa.column("code", sa.String()),
        sa.column("description", sa.Text()),
        sa.column("event_type", sa.String()),
        sa.column("conditions", JSONB()),
        sa.column("audience", sa.String()),
        sa.column("channel", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("template", sa.String()),
        sa.column("schedule", JSONB()),
        sa.column("dedupe", JSONB()),
        sa.column("thread", sa.String()),
        sa.column("cancel_on", JSONB()),
        sa.column("builtin", sa.Boolean()),
    )
    op.bulk_insert(rules, rule_rows(1))
    templates = sa.table(
        "templates",
        sa.column("key", sa.String()),
        sa.column("locale", sa.String()),
        sa.column("subject", sa.Text()),
        sa.column("body", sa.Text()),
        sa.column("sample", JSONB()),
    )
    op.bulk_insert(templates, template_rows(1))


def downgrade() -> None:
    op.execute("DELETE FROM rules WHERE builtin")
    op.execute(
        sa.text("DELETE FROM templates WHERE key = ANY(:keys)").bindparams(keys=list(TEMPLATES))
    )
