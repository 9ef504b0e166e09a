"""product_cost

Revision ID: catalog_0011
Revises: catalog_0010
Create Date: 2026-11-23 11:38:39.172511+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "catalog_0011"
down_revision: str | None = "catalog_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("products", sa.Column("cost_minor", sa.BigInteger(), nullable=True))
    op.add_column("products", sa.Column("cost_currency", sa.String(length=3), nullable=True))
    op.create_check_constraint(
        op.f("ck_products_cost_with_currency"),
        "products",
        "(cost_minor IS NULL) = (cost_currency IS NULL) AND cost_minor >= 0",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_products_cost_with_currency"), "products", type_="check")
    op.drop_column("products", "cost_currency")
    op.drop_column("products", "cost_minor")
