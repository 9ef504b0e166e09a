"""categories

Revision ID: catalog_0005
Revises: catalog_0004
Create Date: 2026-11-23 09:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0005"
down_revision: str | None = "catalog_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_code", sa.String(length=100), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "parent_code IS DISTINCT FROM code", name=op.f("ck_categories_not_own_parent")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_categories")),
    )
    op.create_index("ix_categories_parent_code", "categories", ["parent_code"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_categories_parent_code", table_name="categories")
    op.drop_table("categories")
