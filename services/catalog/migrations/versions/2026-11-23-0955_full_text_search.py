"""full_text_search

Revision ID: catalog_0007
Revises: catalog_0006
Create Date: 2026-11-23 09:55:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "catalog_0007"
down_revision: str | None = "catalog_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_VECTOR = (
    "setweight(to_tsvector('simple', coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('simple', coalesce(brand, '')), 'B') || "
    "setweight(to_tsvector('simple', coalesce(description, '')), 'C') || "
    "setweight(jsonb_to_tsvector('simple', attributes, '[\"string\", \"numeric\"]'), 'D')"
)


def upgrade() -> None:
    op.add_column(
        "products",
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(SEARCH_VECTOR, persisted=True),
            nullable=True,
        ),
    )
    op.create_index(
        "ix_products_search_vector", "products", ["search_vector"], postgresql_using="gin"
    )
    op.create_index("ix_products_name_sku", "products", ["name", "sku"])
    op.create_index(
        "ix_products_updated_at_sku", "products", [sa.literal_column("updated_at DESC"), "sku"]
    )


def downgrade() -> None:
    op.drop_index("ix_products_updated_at_sku", table_name="products")
    op.drop_index("ix_products_name_sku", table_name="products")
    op.drop_index("ix_products_search_vector", table_name="products", postgresql_using="gin")
    op.drop_column("products", "search_vector")
