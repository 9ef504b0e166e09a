"""The category tree: the ERP categories feed (set-based SQL over its staging table), the tree
with product counts, and the subtree a product filter reaches."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.store.models import Category
from services.catalog.store.staging import staged_check
from shared.clock import utcnow

# A tree deeper than this is a data error; the walks stop here instead of running forever.
MAX_DEPTH = 32


# Unknown parents, and parents that would close a cycle once the file is applied.
check_categories = staged_check(
    """
            WITH RECURSIVE parent_of AS (
                SELECT code, parent AS parent_code FROM {staging}
                UNION ALL
                SELECT c.code, c.parent_code FROM categories c
                WHERE NOT EXISTS (SELECT 1 FROM {staging} s WHERE s.code = c.code)
            ),
            walk AS (
                SELECT s._row, s.code AS start, s.parent AS at, 1 AS depth
                FROM {staging} s WHERE s.parent IS NOT NULL
                UNION ALL
                SELECT w._row, w.start, p.parent_code, w.depth + 1
                FROM walk w JOIN parent_of p ON p.code = w.at
                WHERE p.parent_code IS NOT NULL AND w.at <> w.start AND w.depth < {max_depth}
            )
            SELECT s._row, 'parent', 'is not a known category'
            FROM {staging} s
            WHERE s.parent IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM parent_of p WHERE p.code = s.parent)
            UNION ALL
            SELECT DISTINCT _row, 'parent', 'makes a cycle: the category would be its own ancestor'
            FROM walk WHERE at = start
            """,
    max_depth=MAX_DEPTH,
)


async def apply_categories(session: AsyncSession, staging: str) -> dict[str, Any]:
    """Upsert categories by code; a row is the whole truth of its category (empty parent: top)."""
    result = await session.execute(
        text(
            f"""
            INSERT INTO categories (code, name, parent_code, updated_at)
            SELECT code, name, parent, CAST(:now AS timestamptz) FROM {staging}
            ON CONFLICT (code) DO UPDATE
               SET name = excluded.name, parent_code = excluded.parent_code, updated_at = CAST(:now AS timestamptz)
             WHERE (categories.name, categories.parent_code)
                   IS DISTINCT FROM (excluded.name, excluded.parent_code)
            RETURNING (xmax = 0) AS created
            """
        ),
        {"now": utcnow()},
    )
    created = [r.created for r in result]
    return {"created": sum(created), "updated": len(created) - sum(created)}


def subtree(code: str) -> Select[Any]:
    """Codes of the category and all its descendants (none when the code is unknown)."""
    tree = select(Category.code).where(Category.code == code).cte("subtree", recursive=True)
    tree = tree.union(select(Category.code).where(Category.parent_code == tree.c.code))
    return select(tree.c.code)


async def tree_rows(session: AsyncSession) -> list[Any]:
    """Every category with its active products counted over its whole subtree."""
    result = await session.execute(
        text(
            f"""
            WITH RECURSIVE closure(ancestor, code, depth) AS (
                SELECT code, code, 0 FROM categories
                UNION ALL
                SELECT cl.ancestor, c.code, cl.depth + 1
                FROM closure cl JOIN categories c ON c.parent_code = cl.code
                WHERE cl.depth < {MAX_DEPTH}
            ),
            direct AS (
                SELECT category, count(*) AS n FROM products
                WHERE status = 'active' AND category IS NOT NULL
                GROUP BY category
            )
            SELECT cat.code, cat.name, cat.parent_code,
                   coalesce(sum(d.n), 0)::bigint AS product_count
            FROM categories cat
            JOIN closure cl ON cl.ancestor = cat.code
            LEFT JOIN direct d ON d.category = cl.code
            GROUP BY cat.code, cat.name, cat.parent_code
            ORDER BY cat.name, cat.code
            """
        )
    )
    return list(result.all())
