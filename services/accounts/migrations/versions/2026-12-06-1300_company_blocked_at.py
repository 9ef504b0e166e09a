"""company_blocked_at

Revision ID: accounts_0007
Revises: accounts_0006
Create Date: 2026-12-06 13:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'accounts_0007'
down_revision: str | None = 'accounts_0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('companies', sa.Column('blocked_at', sa.DateTime(timezone=True), nullable=True))
    # The last change is the best guess of when a company blocked before now was blocked.
    op.execute("UPDATE companies SET blocked_at = updated_at WHERE status = 'blocked'")
    op.create_index(op.f('ix_companies_blocked_at'), 'companies', ['blocked_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_companies_blocked_at'), table_name='companies')
    op.drop_column('companies', 'blocked_at')
