"""Every query of marketplace feeds: partners, the versions behind a feed's ETag, and the
feed's rows, a chunk of SKUs at a time."""

from __future__ import annotations

import io
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.store.models import MarketplacePartner, PriceListChanges
from shared.clock import utcnow
from shared.events.outbox import OutboxMessage

LISTS = "lists"


async def partner(session: AsyncSession, code: str) -> MarketplacePartner | None:
    return await session.get(MarketplacePartner, code)


async def save_partner(
    session: AsyncSession, code: str, name: str, price_list_code: str
) -> tuple[MarketplacePartner, bool]:
    """Create or update a partner; (partner, created)."""
    found = await session.get(MarketplacePartner, code, with_for_update=True)
    if found is None:
        found = MarketplacePartner(code=code, name=name, price_list_code=price_list_code)
        session.add(found)
        await session.flush()
        return found, True
    if (found.name, found.price_list_code) != (name, price_list_code):
        found.name, found.price_list_code, found.updated_at = name, price_list_code, utcnow()
        await session.flush()
    return found, False


async def remove_partner(session: AsyncSession, found: MarketplacePartner) -> None:
    await session.delete(found)
    await session.flush()


def partners_query() -> Any:
    return select(MarketplacePartner)


async def catalog_version(session: AsyncSession) -> int:
    """The catalog's change sequence: every change of a product or of stock (feeds,
    reservations, releases) records its event in the outbox in its transaction, so the
    highest outbox `seq` moves with any change a feed shows. One index lookup."""
    return int(await session.scalar(select(func.coalesce(func.max(OutboxMessage.seq), 0))) or 0)


async def price_lists_version(session: AsyncSession) -> int:
    """How many price.changed events naming price lists catalog has applied."""
    return int(
        await session.scalar(
            select(PriceListChanges.changes).where(PriceListChanges.scope == LISTS)
        )
        or 0
    )


async def count_price_list_change(session: AsyncSession, change_id: uuid.UUID) -> None:
    stmt = insert(PriceListChanges).values(scope=LISTS, changes=1, last_change_id=change_id)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[PriceListChanges.scope],
            set_={
                "changes": PriceListChanges.changes + 1,
                "last_change_id": change_id,
                "updated_at": utcnow(),
            },
        )
    )


# The partner's prices of a chunk of SKUs, as arrays: every tier of every SKU, by SKU and tier.
_PRICED = """
    WITH tier AS (
        SELECT t.sku, CAST(t.min_qty AS numeric) AS min_qty, t.price_minor
        FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(sku, min_qty, price_minor)
    ), priced AS (
        SELECT sku,
               (array_agg(price_minor ORDER BY min_qty))[1] AS price_minor,
               json_agg(row_to_json(
                   (SELECT o FROM (SELECT CAST(trim_scale(min_qty) AS text) AS min_qty,
                                          price_minor) o)
               ) ORDER BY min_qty) AS tiers
        FROM tier GROUP BY sku
    )
"""
_OFFERS = """
    FROM priced x JOIN products p ON p.sku = x.sku
    LEFT JOIN LATERAL (
        SELECT sum(greatest(l.on_hand - l.reserved, 0)) AS available
        FROM stock_levels l WHERE l.sku = p.sku
    ) s ON true
    WHERE p.status = 'active'
"""
# row_to_json: compact JSON, keys in this order.
JSONL_OFFERS = (
    _PRICED
    + """
    SELECT CAST(row_to_json(o) AS text) FROM (
        SELECT p.sku, p.name, p.description, p.brand, p.category, p.unit,
               CAST(trim_scale(p.min_order_qty) AS text) AS min_order_qty,
               CAST(trim_scale(p.order_multiple) AS text) AS order_multiple,
               p.attributes, p.images, x.price_minor, CAST($4 AS text) AS currency, x.tiers,
               CAST(trim_scale(coalesce(s.available, 0)) AS text) AS available, p.updated_at
    """
    + _OFFERS
    + """
    ) o ORDER BY o.sku
    """
)
CSV_COLUMNS = [
    "sku",
    "name",
    "brand",
    "category",
    "unit",
    "min_order_qty",
    "order_multiple",
    "price_minor",
    "currency",
    "available",
    "images",
    "description",
]
CSV_OFFERS = (
    _PRICED
    + """
    SELECT p.sku, p.name, p.brand, p.category, p.unit, trim_scale(p.min_order_qty),
           trim_scale(p.order_multiple), x.price_minor, CAST($4 AS text),
           trim_scale(coalesce(s.available, 0)),
           array_to_string(ARRAY(SELECT jsonb_array_elements_text(p.images)), ' '), p.description
    """
    + _OFFERS
    + "ORDER BY p.sku"
)


async def _driver(session: AsyncSession) -> Any:
    raw = await (await session.connection()).get_raw_connection()
    return raw.driver_connection


async def jsonl_offers(
    session: AsyncSession, skus: list[str], min_qty: list[str], price: list[int], currency: str
) -> bytes:
    """JSON lines of the active products among `skus` with their tiers and available stock;
    PostgreSQL writes the JSON."""
    rows = await (await _driver(session)).fetch(JSONL_OFFERS, skus, min_qty, price, currency)
    return b"".join(row[0].encode() + b"\n" for row in rows)


async def csv_offers(
    session: AsyncSession, skus: list[str], min_qty: list[str], price: list[int], currency: str
) -> bytes:
    """The same as CSV rows (no header), written by PostgreSQL's COPY."""
    out = io.BytesIO()
    await (await _driver(session)).copy_from_query(
        CSV_OFFERS, skus, min_qty, price, currency, output=out, format="csv"
    )
    return out.getvalue()
