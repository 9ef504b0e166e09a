"""Set-based SQL of the ERP catalog feed: checks and apply over the staging table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.store.staging import staged_check
from shared.clock import utcnow
from shared.contracts.catalog import ProductUpsertedV1, StockChangedV1
from shared.events.outbox import record_events_from_query

CHANGES = "feed_changes"

# The JSON of ProductUpsertedV1 for products `p`.
UPSERTED_DATA = """
    SELECT p.sku AS aggregate_id, jsonb_build_object(
        'sku', p.sku, 'name', p.name, 'brand', p.brand, 'category', p.category,
        'unit', p.unit, 'sellable', p.status = 'active', 'min_order_qty', p.min_order_qty,
        'order_multiple', p.order_multiple, 'replacement_sku', p.replacement_sku,
        'cost_minor', p.cost_minor, 'cost_currency', p.cost_currency,
        'supply', p.supply, 'lead_time_days', p.lead_time_days, 'min_batch', p.min_batch,
        'batch_multiple', p.batch_multiple, 'weight_kg', p.weight_kg, 'volume_m3', p.volume_m3,
        'updated_at', p.updated_at) AS data
    FROM products p
"""


check_products = staged_check(
    """
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


# Units as the product will have them after the row (already `pack=12;pallet=480` in
# form): a factor above 0, no unit named twice, none named like the base unit, a minimum,
# multiple and production batches the base unit's decimals can express, and a lead time
# whenever the product may be made to order.
check_units = staged_check(
    """
            WITH after AS (
                SELECT s._row, s.units, p.units AS stored_units,
                       coalesce(s.unit, p.unit, 'pcs') AS base,
                       CAST(coalesce(s.unit_precision, p.unit_precision, 3) AS integer) AS decimals,
                       coalesce(s.min_order_qty, p.min_order_qty, 1) AS min_order_qty,
                       coalesce(s.order_multiple, p.order_multiple, 1) AS order_multiple,
                       coalesce(s.supply, p.supply, 'stock') AS supply,
                       coalesce(s.lead_time_days, p.lead_time_days) AS lead_time_days,
                       coalesce(s.min_batch, p.min_batch) AS min_batch,
                       coalesce(s.batch_multiple, p.batch_multiple) AS batch_multiple
                FROM {staging} s LEFT JOIN products p ON p.sku = s.sku
            ), pairs AS (
                SELECT a._row, 'units' AS field, split_part(kv, '=', 1) AS unit,
                       CAST(split_part(kv, '=', 2) AS numeric) AS factor, a.base
                FROM after a CROSS JOIN LATERAL unnest(string_to_array(a.units, ';')) AS kv
                WHERE a.units IS NOT NULL
                UNION ALL
                -- a new base unit beside the units the product keeps
                SELECT a._row, 'unit', kv.key, CAST(kv.value AS numeric), a.base
                FROM after a CROSS JOIN LATERAL jsonb_each_text(a.stored_units) AS kv
                WHERE a.units IS NULL
            )
            SELECT _row, field, unit || ' must hold more than 0 ' || base
            FROM pairs WHERE factor <= 0
            UNION ALL
            SELECT _row, field, unit || ' is the base unit' FROM pairs WHERE unit = base
            UNION ALL
            SELECT _row, 'units', unit || ' is named twice'
            FROM pairs GROUP BY _row, unit HAVING count(*) > 1
            UNION ALL
            SELECT _row, 'min_order_qty', 'has more decimals than unit_precision allows'
            FROM after WHERE min_order_qty <> round(min_order_qty, decimals)
            UNION ALL
            SELECT _row, 'order_multiple', 'has more decimals than unit_precision allows'
            FROM after WHERE order_multiple <> round(order_multiple, decimals)
            UNION ALL
            SELECT _row, 'min_batch', 'has more decimals than unit_precision allows'
            FROM after WHERE min_batch <> round(min_batch, decimals)
            UNION ALL
            SELECT _row, 'batch_multiple', 'has more decimals than unit_precision allows'
            FROM after WHERE batch_multiple <> round(batch_multiple, decimals)
            UNION ALL
            SELECT _row, 'lead_time_days', 'is required when the SKU can be made to order'
            FROM after WHERE supply <> 'stock' AND lead_time_days IS NULL
            """
)


async def upsert_products(
    session: AsyncSession, staging: str, full: bool
) -> tuple[int, int, list[str]]:
    """Upsert products by SKU; an empty cell keeps the current value. A `full` feed
    discontinues the active products it leaves out. (created, updated, SKUs discontinued)."""
    await session.execute(
        text(
            f"""
            CREATE TEMP TABLE {CHANGES} ON COMMIT DROP AS
            SELECT x.*, x.existing_id IS NULL AS is_new,
                   (x.existing_id IS NULL OR
                    (x.name, x.description, x.brand, x.category, x.unit, x.min_order_qty,
                     x.order_multiple, x.status, x.replacement_sku, x.attributes, x.units,
                     x.unit_precision, x.cost_minor, x.cost_currency, x.images, x.supply,
                     x.lead_time_days, x.min_batch, x.batch_multiple, x.weight_kg, x.volume_m3)
                    IS DISTINCT FROM
                    (p.name, p.description, p.brand, p.category, p.unit, p.min_order_qty,
                     p.order_multiple, p.status, p.replacement_sku, p.attributes, p.units,
                     p.unit_precision, p.cost_minor, p.cost_currency, p.images, p.supply,
                     p.lead_time_days, p.min_batch, p.batch_multiple, p.weight_kg,
                     p.volume_m3)) AS changed
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
                       coalesce(s.replacement_sku, p.replacement_sku) AS replacement_sku,
                       -- Attributes sent are merged in; a null value removes one.
                       CASE WHEN s.attributes IS NULL THEN coalesce(p.attributes, '{{}}')
                            ELSE jsonb_strip_nulls(coalesce(p.attributes, '{{}}')
                                                   || CAST(s.attributes AS jsonb))
                       END AS attributes,
                       -- Units sent replace the product's list of alternative units.
                       CASE WHEN s.units IS NULL THEN coalesce(p.units, '{{}}')
                            ELSE (SELECT jsonb_object_agg(
                                             split_part(kv, '=', 1),
                                             CAST(CAST(split_part(kv, '=', 2) AS numeric) AS text))
                                  FROM unnest(string_to_array(s.units, ';')) kv)
                       END AS units,
                       coalesce(s.unit_precision, p.unit_precision, 3) AS unit_precision,
                       coalesce(s.cost_minor, p.cost_minor) AS cost_minor,
                       coalesce(s.cost_currency, p.cost_currency) AS cost_currency,
                       -- Images sent replace the product's list.
                       CASE WHEN s.images IS NULL THEN coalesce(p.images, '[]')
                            ELSE to_jsonb(ARRAY(
                                SELECT m[1]
                                FROM regexp_matches(s.images, '([^[:space:]]+)', 'g') AS m))
                       END AS images,
                       coalesce(s.supply, p.supply, 'stock') AS supply,
                       coalesce(s.lead_time_days, p.lead_time_days) AS lead_time_days,
                       coalesce(s.min_batch, p.min_batch) AS min_batch,
                       coalesce(s.batch_multiple, p.batch_multiple) AS batch_multiple,
                       coalesce(s.weight_kg, p.weight_kg) AS weight_kg,
                       coalesce(s.volume_m3, p.volume_m3) AS volume_m3
                FROM {staging} s LEFT JOIN products p ON p.sku = s.sku
            ) x LEFT JOIN products p ON p.id = x.existing_id
            """
        )
    )
    # A temp table has no statistics until analysed: without them the planner guesses badly on
    # a million-row feed (the events query below ran for half an hour on 1 M products).
    await session.execute(text(f"ANALYZE {CHANGES}"))
    updated = await session.execute(
        text(
            f"""
            UPDATE products p SET
                name = f.name, description = f.description, brand = f.brand,
                category = f.category, unit = f.unit, min_order_qty = f.min_order_qty,
                order_multiple = f.order_multiple, status = f.status,
                replacement_sku = f.replacement_sku, attributes = f.attributes,
                units = f.units, unit_precision = f.unit_precision, images = f.images,
                cost_minor = f.cost_minor, cost_currency = f.cost_currency,
                supply = f.supply, lead_time_days = f.lead_time_days, min_batch = f.min_batch,
                batch_multiple = f.batch_multiple, weight_kg = f.weight_kg,
                volume_m3 = f.volume_m3, version = p.version + 1, updated_at = CAST(:now AS timestamptz)
            FROM {CHANGES} f WHERE f.existing_id = p.id AND f.changed AND NOT f.is_new
            """
        ),
        {"now": utcnow()},
    )
    created = await session.execute(
        text(
            f"""
            INSERT INTO products (id, sku, name, description, brand, category, unit,
                min_order_qty, order_multiple, status, replacement_sku, attributes, units,
                unit_precision, cost_minor, cost_currency, images, supply, lead_time_days,
                min_batch, batch_multiple, weight_kg, volume_m3, version, created_at,
                updated_at)
            SELECT gen_random_uuid(), sku, name, description, brand, category, unit,
                min_order_qty, order_multiple, status, replacement_sku, attributes, units,
                unit_precision, cost_minor, cost_currency, images, supply, lead_time_days,
                min_batch, batch_multiple, weight_kg, volume_m3, 1, CAST(:now AS timestamptz), CAST(:now AS timestamptz)
            FROM {CHANGES} WHERE is_new
            """
        ),
        {"now": utcnow()},
    )
    discontinued: list[str] = []
    if full:
        # The feed is the whole assortment: what it leaves out is discontinued, not deleted
        # (orders and history keep pointing at it).
        result = await session.execute(
            text(
                f"""
                UPDATE products p SET status = 'discontinued', version = p.version + 1,
                    updated_at = CAST(:now AS timestamptz)
                WHERE p.status = 'active'
                  AND NOT EXISTS (SELECT 1 FROM {CHANGES} f WHERE f.sku = p.sku)
                RETURNING p.sku
                """
            ),
            {"now": utcnow()},
        )
        discontinued = list(result.scalars())
    return created.rowcount, updated.rowcount, discontinued


async def announce_products(session: AsyncSession, discontinued: list[str]) -> int:
    """product.upserted for each product the last upsert changed or discontinued."""
    return await record_events_from_query(
        session,
        ProductUpsertedV1,
        f"""{UPSERTED_DATA}
        JOIN (SELECT sku FROM {CHANGES} WHERE changed
              UNION SELECT unnest(CAST(:discontinued AS text[]))) touched ON touched.sku = p.sku""",
        {"discontinued": discontinued},
    )


# Stock -----------------------------------------------------------------------------------

STOCK_DATA = """
    SELECT l.sku AS aggregate_id, jsonb_build_object(
        'sku', l.sku, 'warehouse', l.warehouse, 'on_hand', l.on_hand, 'reserved', l.reserved,
        'available', greatest(l.on_hand - l.reserved, 0),
        'changed_at', CAST(:now AS timestamptz)) AS data
    FROM stock_levels l
"""


check_stock = staged_check(
    """
            SELECT s._row, 'sku', 'is not a known SKU'
            FROM {staging} s LEFT JOIN products p ON p.sku = s.sku
            WHERE p.id IS NULL
            """
)


async def set_stock(session: AsyncSession, staging: str, full: bool) -> tuple[list[Any], list[Any]]:
    """Set on-hand quantities; a row older (`as_of`) than what is stored is skipped. A `full`
    feed zeroes what it leaves out of the warehouses it names. The (sku, warehouse) keys
    changed, and those zeroed."""
    await session.execute(
        text(
            f"""
            INSERT INTO warehouses (code, name, created_at)
            SELECT DISTINCT warehouse, warehouse, CAST(:now AS timestamptz) FROM {staging}
            ON CONFLICT (code) DO NOTHING
            """
        ),
        {"now": utcnow()},
    )
    changed = await session.execute(
        text(
            f"""
            INSERT INTO stock_levels (sku, warehouse, on_hand, reserved, as_of, updated_at)
            SELECT sku, warehouse, on_hand, 0, coalesce(as_of, CAST(:now AS timestamptz)), CAST(:now AS timestamptz) FROM {staging}
            ON CONFLICT (sku, warehouse) DO UPDATE
               SET on_hand = excluded.on_hand, as_of = excluded.as_of, updated_at = CAST(:now AS timestamptz)
             WHERE stock_levels.as_of <= excluded.as_of
               AND stock_levels.on_hand IS DISTINCT FROM excluded.on_hand
            RETURNING sku, warehouse
            """
        ),
        {"now": utcnow()},
    )
    keys = changed.all()
    zeroed: list[Any] = []
    if full:
        # The feed is the whole stock of the warehouses it names: what it leaves out is gone.
        result = await session.execute(
            text(
                f"""
                UPDATE stock_levels l SET on_hand = 0, as_of = CAST(:now AS timestamptz), updated_at = CAST(:now AS timestamptz)
                WHERE l.on_hand <> 0
                  AND l.warehouse IN (SELECT DISTINCT warehouse FROM {staging})
                  AND NOT EXISTS (SELECT 1 FROM {staging} s
                                  WHERE s.sku = l.sku AND s.warehouse = l.warehouse)
                RETURNING l.sku, l.warehouse
                """
            ),
            {"now": utcnow()},
        )
        zeroed = result.all()
    return keys, zeroed


async def announce_stock(session: AsyncSession, keys: list[Any]) -> int:
    """stock.changed for each (sku, warehouse) of `keys`."""
    touched = [f"{sku}\t{warehouse}" for sku, warehouse in keys]
    return await record_events_from_query(
        session,
        StockChangedV1,
        f"{STOCK_DATA} WHERE l.sku || E'\\t' || l.warehouse = ANY(CAST(:touched AS text[]))",
        {"touched": touched},
    )
