"""search words by exact prefix terms: a GIN index over every prefix of every word

Revision ID: catalog_0013
Revises: catalog_0012
Create Date: 2026-11-23 17:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0013"
down_revision: str | None = "catalog_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every prefix of every lexeme ('tile' -> 't', 'ti', 'til', 'tile'), so a word typed in part
# is one exact GIN key instead of a prefix (':*') lookup, which GIN answers by building a
# bitmap of every row under the prefix (200,000 rows for a common word at 1 M products).
# Costly per row (~20-30 us): the high COST keeps the planner from filtering rows with it.
# array_to_tsvector sorts and drops the repeated prefixes.
WORD_PREFIXES = """
CREATE FUNCTION catalog_word_prefixes(words tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
    SELECT array_to_tsvector(coalesce(array_agg(left(word, n)), '{}'))
    FROM unnest(tsvector_to_array(words)) AS word, generate_series(1, length(word)) AS n
$$
"""


def upgrade() -> None:
    op.execute(WORD_PREFIXES)
    op.create_index(
        "ix_products_search_prefixes",
        "products",
        [sa.text("catalog_word_prefixes(search_vector)")],
        postgresql_using="gin",
    )
    op.drop_index("ix_products_search_vector", table_name="products", postgresql_using="gin")


def downgrade() -> None:
    op.create_index(
        "ix_products_search_vector", "products", ["search_vector"], postgresql_using="gin"
    )
    op.drop_index("ix_products_search_prefixes", table_name="products", postgresql_using="gin")
    op.execute("DROP FUNCTION catalog_word_prefixes(tsvector)")
