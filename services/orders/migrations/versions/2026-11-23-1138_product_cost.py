"""product_cost

Revision ID: orders_0006
Revises: orders_0005
Create Date: 2026-11-23 11:38:56.782420+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "orders_0006"
down_revision: str | None = "orders_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("order_lines", sa.Column("unit_cost_minor", sa.BigInteger(), nullable=True))
    op.add_column("products", sa.Column("cost_minor", sa.BigInteger(), nullable=True))
    op.add_column("products", sa.Column("cost_currency", sa.String(length=3), nullable=True))


def downgrade() -> None:
    op.drop_column("products", "cost_currency")
    op.drop_column("products", "cost_minor")
    op.drop_column("order_lines", "unit_cost_minor")
