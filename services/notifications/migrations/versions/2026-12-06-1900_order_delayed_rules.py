"""order delays: orders' order.delayed to the buyers (email) and the client's manager (inbox)
(built-ins version 5)

Revision ID: notifications_0011
Revises: notifications_0010
Create Date: 2026-12-06 19:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from services.notifications.migrations.builtin_seed import seed, unseed

revision: str = "notifications_0011"
down_revision: str | None = "notifications_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    seed(op, revision)


def downgrade() -> None:
    unseed(op, revision)
