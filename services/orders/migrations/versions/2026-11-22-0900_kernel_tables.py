"""Kernel tables: outbox, inbox, idempotency keys, feed jobs.

Revision ID: orders_0001
Revises:
Create Date: 2026-11-22 09:00:00+00:00
"""

from collections.abc import Sequence

from shared.migrations import kernel_v1

revision: str = "orders_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    kernel_v1.upgrade()


def downgrade() -> None:
    kernel_v1.downgrade()
