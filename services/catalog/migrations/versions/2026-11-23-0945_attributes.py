"""attributes

Revision ID: catalog_0006
Revises: catalog_0005
Create Date: 2026-11-23 09:45:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0006"
down_revision: str | None = "catalog_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attribute_definitions",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "type IN ('number', 'text', 'bool')", name=op.f("ck_attribute_definitions_type_known")
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_attribute_definitions")),
    )
    op.create_index(
        "ix_products_attributes",
        "products",
        ["attributes"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"attributes": "jsonb_path_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_products_attributes", table_name="products", postgresql_using="gin")
    op.drop_table("attribute_definitions")
