"""images_and_certificates

Revision ID: catalog_0010
Revises: catalog_0009
Create Date: 2026-11-23 10:45:08.362862+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "catalog_0010"
down_revision: str | None = "catalog_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quality_certificates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("batch", sa.String(length=100), nullable=True),
        sa.Column("number", sa.String(length=100), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("file_path", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "uploaded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_certificates")),
    )
    op.create_index(
        "ix_quality_certificates_sku_batch",
        "quality_certificates",
        ["sku", "batch", "uploaded_at"],
        unique=False,
    )
    op.create_index(
        "uq_quality_certificates_sku_batch_sha256",
        "quality_certificates",
        ["sku", sa.literal_column("coalesce(batch, '')"), "sha256"],
        unique=True,
    )
    op.add_column(
        "products",
        sa.Column(
            "images",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("products", "images")
    op.drop_index("uq_quality_certificates_sku_batch_sha256", table_name="quality_certificates")
    op.drop_index("ix_quality_certificates_sku_batch", table_name="quality_certificates")
    op.drop_table("quality_certificates")
