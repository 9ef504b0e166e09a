"""An address's region (state, province, oblast): delivery tariffs may be set by region.

Revision ID: accounts_0010
Revises: accounts_0009
Create Date: 2026-12-06 19:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "accounts_0010"
down_revision: str | None = "accounts_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("addresses", sa.Column("region", sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.drop_column("addresses", "region")
