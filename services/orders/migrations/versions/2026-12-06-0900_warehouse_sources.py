"""warehouse_sources: the client's preferred warehouse, where each order line's stock is held

Revision ID: orders_0011
Revises: orders_0010
Create Date: 2026-12-06 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'orders_0011'
down_revision: str | None = 'orders_0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('companies', sa.Column('preferred_warehouse', sa.String(length=64), nullable=True))
    op.add_column(
        'order_lines',
        sa.Column(
            'sources',
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column('order_lines', 'sources')
    op.drop_column('companies', 'preferred_warehouse')
