"""product_units

Revision ID: catalog_0008
Revises: catalog_0007
Create Date: 2026-11-23 10:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "catalog_0008"
down_revision: str | None = "catalog_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "products",
        sa.Column(
            "units",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column(
        "products",
        sa.Column("unit_precision", sa.SmallInteger(), server_default=sa.text("3"), nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_products_unit_precision_range"), "products", "unit_precision BETWEEN 0 AND 3"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_products_unit_precision_range"), "products", type_="check")
    op.drop_column("products", "unit_precision")
    op.drop_column("products", "units")
