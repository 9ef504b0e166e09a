"""built-in rules and templates (version 1)

Revision ID: notifications_0003
Revises: notifications_0002
Create Date: 2026-11-23 10:50:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.notifications.migrations.builtin_seed import frozen, seed

revision: str = "notifications_0003"
down_revision: str | None = "notifications_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    seed(op, revision)


def downgrade() -> None:
    op.execute("DELETE FROM rules WHERE builtin")
    keys = sorted({t["key"] for t in frozen(revision)["templates"]})
    op.execute(sa.text("DELETE FROM templates WHERE key = ANY(:keys)").bindparams(keys=keys))
