"""quotes

Revision ID: orders_0003
Revises: orders_0002
Create Date: 2026-11-23 10:19:29.602169+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "orders_0003"
down_revision: str | None = "orders_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE quote_numbers")
    op.create_table(
        "quotes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("offered_by", sa.String(length=100), nullable=True),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
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
        sa.CheckConstraint(
            "status IN ('requested', 'offered', 'changes_requested', 'accepted', 'declined')",
            name=op.f("ck_quotes_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotes")),
        sa.UniqueConstraint("number", name=op.f("uq_quotes_number")),
    )
    op.create_index(
        "ix_quotes_company_created",
        "quotes",
        ["company_id", sa.literal_column("created_at DESC"), "id"],
        unique=False,
    )
    op.create_table(
        "quote_lines",
        sa.Column("quote_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("quantity", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("list_price_minor", sa.BigInteger(), nullable=True),
        sa.Column("client_price_minor", sa.BigInteger(), nullable=True),
        sa.Column("client_price_rule", sa.String(length=200), nullable=False),
        sa.Column("quoted_price_minor", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["quotes.id"],
            name=op.f("fk_quote_lines_quote_id_quotes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("quote_id", "line_no", name=op.f("pk_quote_lines")),
    )
    op.create_table(
        "quote_steps",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("quote_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["quotes.id"],
            name=op.f("fk_quote_steps_quote_id_quotes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_steps")),
    )
    op.create_index(op.f("ix_quote_steps_quote_id"), "quote_steps", ["quote_id"], unique=False)
    op.add_column("orders", sa.Column("quote_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.drop_column("orders", "quote_id")
    op.drop_index(op.f("ix_quote_steps_quote_id"), table_name="quote_steps")
    op.drop_table("quote_steps")
    op.drop_table("quote_lines")
    op.drop_index("ix_quotes_company_created", table_name="quotes")
    op.drop_table("quotes")
    op.execute("DROP SEQUENCE quote_numbers")
