"""company_preferred_warehouse

Revision ID: accounts_0005
Revises: accounts_0004
Create Date: 2026-12-06 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'accounts_0005'
down_revision: str | None = 'accounts_0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('companies', sa.Column('preferred_warehouse', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('companies', 'preferred_warehouse')
