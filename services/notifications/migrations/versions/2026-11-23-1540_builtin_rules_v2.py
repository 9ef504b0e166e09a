"""built-in rules and templates (version 2): ladder progress, contract prices ending, stock back
on requisition lists, A-class SKU out of stock, price moves on regular SKUs, cross-sell offers

Revision ID: notifications_0004
Revises: notifications_0003
Create Date: 2026-11-23 15:40:00+00:00
"""

from collections.abc import Sequence

from alembic import op

from services.notifications.migrations.builtin_seed import seed, unseed

revision: str = "notifications_0004"
down_revision: str | None = "notifications_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    seed(op, revision)


def downgrade() -> None:
    unseed(op, revision)
