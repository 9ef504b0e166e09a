"""Delivery tariffs from ERP.

Revision ID: orders_0014
Revises: orders_0013
Create Date: 2026-12-06 19:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "orders_0014"
down_revision: str | None = "orders_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_tariffs",
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("postal_prefix", sa.String(length=20), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("max_weight_kg", sa.Numeric(12, 3), nullable=False),
        sa.Column("max_volume_m3", sa.Numeric(12, 3), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("transit_days", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_delivery_tariffs_price_not_negative")),
        sa.CheckConstraint(
            "max_weight_kg > 0 AND max_volume_m3 > 0", name=op.f("ck_delivery_tariffs_band_not_empty")
        ),
        sa.CheckConstraint(
            "transit_days BETWEEN 0 AND 365", name=op.f("ck_delivery_tariffs_transit_days_bounded")
        ),
        sa.PrimaryKeyConstraint(
            "country",
            "postal_prefix",
            "region",
            "currency",
            "max_weight_kg",
            "max_volume_m3",
            name=op.f("pk_delivery_tariffs"),
        ),
    )


def downgrade() -> None:
    op.drop_table("delivery_tariffs")
