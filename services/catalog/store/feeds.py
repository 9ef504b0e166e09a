"""Set-based SQL of the ERP catalog feed: checks and apply over the staging table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.catalog import ProductUpsertedV1
from shared.events.outbox import record_events_from_query
from shared.feeds.models import FeedJob, FeedScope

CHANGES = "feed_changes"

# The JSON of ProductUpsertedV1 for products `p`.
UPSERTED_DATA = """
    SELECT p.sku AS aggregate_id, jsonb_build_object(
        'sku', p.sku, 'name', p.name, 'brand', p.brand, 'category', p.category,
        'unit', p.unit, 'sellable', p.status = 'active', 'updated_at', p.updated_at) AS data
    FROM products p
"""


async def check_products(session: AsyncSession, staging: str) -> list[tuple[int, str, str]]:
    rows = await session.execute(
        text(
            f"""
            SELECT s._row, 'name', 'is required for a new product'
            FROM {staging} s LEFT JOIN products p ON p.sku = s.sku
            WHERE s.name IS NULL AND p.id IS NULL
            UNION ALL
            SELECT s._row, 'replacement_sku', 'is not a known SKU'
            FROM {staging} s
            WHERE s.replacement_sku IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM products p WHERE p.sku = s.replacement_sku)
              AND NOT EXISTS (SELECT 1 FROM {staging} o WHERE o.sku = s.replacement_sku)
            """
        )
    )
    return [(r[0], r[1], r[2]) for r in rows.all()]


async def apply_products(session: AsyncSession, staging: str, job: FeedJob) -> dict[str, Any]:
    """Upsert products by SKU; an empty cell keeps the current value."""
    await session.execute(
        text(
            f"""
            CREATE TEMP TABLE {CHANGES} ON COMMIT DROP AS
            SELECT x.*, x.existing_id IS NULL AS is_new,
                   (x.existing_id IS NULL OR
                    (x.name, x.description, x.brand, x.category, x.unit, x.min_order_qty,
                     x.order_multiple, x.status, x.replacement_sku)
                    IS DISTINCT FROM
                    (p.name, p.description, p.brand, p.category, p.unit, p.min_order_qty,
                     p.order_multiple, p.status, p.replacement_sku)) AS changed
            FROM (
                SELECT s._row, p.id AS existing_id, s.sku,
                       coalesce(s.name, p.name) AS name,
                       coalesce(s.description, p.description) AS description,
                       coalesce(s.brand, p.brand) AS brand,
                       coalesce(s.category, p.category) AS category,
                       coalesce(s.unit, p.unit, 'pcs') AS unit,
                       coalesce(s.min_order_qty, p.min_order_qty, 1) AS min_order_qty,
                       coalesce(s.order_multiple, p.order_multiple, 1) AS order_multiple,
                       coalesce(s.status, p.status, 'active') AS status,
                       coalesce(s.replacement_sku, p.replacement_sku) AS replacement_sku
                FROM {staging} s LEFT JOIN products p ON p.sku = s.sku
            ) x LEFT JOIN products p ON p.id = x.existing_id
            """
        )
    )
    updated = await session.execute(
        text(
            f"""
            UPDATE products p SET
                name = f.name, description = f.description, brand = f.brand,
                category = f.category, unit = f.unit, min_order_qty = f.min_order_qty,
                order_multiple = f.order_multiple, status = f.status,
                replacement_sku = f.replacement_sku, version = p.version + 1, updated_at = now()
            FROM {CHANGES} f WHERE f.existing_id = p.id AND f.changed AND NOT f.is_new
            """
        )
    )
    created = await session.execute(
        text(
            f"""
            INSERT INTO products (id, sku, name, description, brand, category, unit,
                min_order_qty, order_multiple, status, replacement_sku, attributes, version,
                created_at, updated_at)
            SELECT gen_random_uuid(), sku, name, description, brand, category, unit,
                min_order_qty, order_multiple, status, replacement_sku, '{{}}', 1, now(), now()
            FROM {CHANGES} WHERE is_new
            """
        )
    )
    discontinued: list[str] = []
    if job.scope == FeedScope.FULL:
        # The feed is the whole assortment: what it leaves out is discontinued, not deleted
        # (orders and history keep pointing at it).
        result = await session.execute(
            text(
                f"""
                UPDATE products p SET status = 'discontinued', version = p.version + 1,
                    updated_at = now()
                WHERE p.status = 'active'
                  AND NOT EXISTS (SELECT 1 FROM {CHANGES} f WHERE f.sku = p.sku)
                RETURNING p.sku
                """
            )
        )
        discontinued = list(result.scalars())
    events = await record_events_from_query(
        session,
        ProductUpsertedV1,
        f"""{UPSERTED_DATA}
        WHERE p.sku IN (SELECT sku FROM {CHANGES} WHERE changed)
           OR p.sku = ANY(CAST(:discontinued AS text[]))""",
        {"discontinued": discontinued},
    )
    return {
        "created": created.rowcount,
        "updated": updated.rowcount,
        "discontinued": len(discontinued),
        "events": events,
    }
