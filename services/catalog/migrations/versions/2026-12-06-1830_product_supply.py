"""product_supply: stocked or made to order (lead time, batches), weight and volume

Revision ID: catalog_0015
Revises: catalog_0014
Create Date: 2026-12-06 18:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0015"
down_revision: str | None = "catalog_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKS = {
    "supply_known": "supply IN ('stock', 'made_to_order', 'both')",
    "lead_time_when_produced": (
        "lead_time_days BETWEEN 0 AND 365 AND (supply = 'stock' OR lead_time_days IS NOT NULL)"
    ),
    "batches_positive": "min_batch > 0 AND batch_multiple > 0",
    "measures_positive": "weight_kg > 0 AND volume_m3 > 0",
}


def upgrade() -> None:
    # Every existing product is stocked, as it was before: the default fills the rows.
    op.add_column(
        "products",
        sa.Column("supply", sa.String(length=16), server_default="stock", nullable=False),
    )
    op.add_column("products", sa.Column("lead_time_days", sa.SmallInteger(), nullable=True))
    op.add_column("products", sa.Column("min_batch", sa.Numeric(18, 3), nullable=True))
    op.add_column("products", sa.Column("batch_multiple", sa.Numeric(18, 3), nullable=True))
    op.add_column("products", sa.Column("weight_kg", sa.Numeric(12, 3), nullable=True))
    op.add_column("products", sa.Column("volume_m3", sa.Numeric(12, 6), nullable=True))
    for name, condition in CHECKS.items():
        op.create_check_constraint(op.f(f"ck_products_{name}"), "products", condition)


def downgrade() -> None:
    for name in CHECKS:
        op.drop_constraint(op.f(f"ck_products_{name}"), "products", type_="check")
    for column in ("volume_m3", "weight_kg", "batch_multiple", "min_batch", "lead_time_days"):
        op.drop_column("products", column)
    op.drop_column("products", "supply")
