"""Outbox trace context (kernel v2).

Revision ID: accounts_0009
Revises: accounts_0008
Create Date: 2026-12-06 14:00:00+00:00
"""

from collections.abc import Sequence

from shared.migrations import kernel_v2

revision: str = "accounts_0009"
down_revision: str | None = "accounts_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    kernel_v2.upgrade()


def downgrade() -> None:
    kernel_v2.downgrade()
