"""order_delays: slipped promises told once (order.delayed), and the open orders by window end

Revision ID: orders_0013
Revises: orders_0012
Create Date: 2026-12-06 19:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "orders_0013"
down_revision: str | None = "orders_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_delays",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("promised_to", sa.Date(), nullable=False),
        sa.Column("moved_from", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "reason IN ('date_moved', 'window_missed')",
            name=op.f("ck_order_delays_reason_known"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_delays_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_delays")),
    )
    op.create_index(
        "uq_order_delays_once",
        "order_delays",
        ["order_id", "reason", "promised_to"],
        unique=True,
    )
    op.create_index(
        "ix_orders_promised_open",
        "orders",
        ["promised_to"],
        postgresql_where=sa.text("status IN ('placed', 'confirmed', 'shipped')"),
    )


def downgrade() -> None:
    op.drop_index("ix_orders_promised_open", table_name="orders")
    op.drop_index("uq_order_delays_once", table_name="order_delays")
    op.drop_table("order_delays")
