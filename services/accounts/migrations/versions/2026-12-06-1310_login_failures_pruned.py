"""login_failures_pruned

Revision ID: accounts_0008
Revises: accounts_0007
Create Date: 2026-12-06 13:10:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'accounts_0008'
down_revision: str | None = 'accounts_0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f('ix_login_failures_last_failed_at'), 'login_failures', ['last_failed_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_login_failures_last_failed_at'), table_name='login_failures')
