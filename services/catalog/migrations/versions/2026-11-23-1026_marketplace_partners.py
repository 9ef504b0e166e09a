"""marketplace_partners

Revision ID: catalog_0009
Revises: catalog_0008
Create Date: 2026-11-23 10:26:20.165286+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "catalog_0009"
down_revision: str | None = "catalog_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "marketplace_partners",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("price_list_code", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_marketplace_partners")),
    )
    op.create_table(
        "price_list_changes",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("changes", sa.BigInteger(), nullable=False),
        sa.Column("last_change_id", sa.Uuid(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_price_list_changes")),
    )


def downgrade() -> None:
    op.drop_table("price_list_changes")
    op.drop_table("marketplace_partners")
