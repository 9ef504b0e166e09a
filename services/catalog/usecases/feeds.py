"""What each ERP feed of the catalog does once its rows are staged and checked (the kernel's
feed job calls these in the job's transaction): products and stock are applied and every
change announced through the outbox; categories and attributes are applied."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.store import attributes, categories
from services.catalog.store import feeds as store
from shared.feeds.models import FeedJob, FeedScope


async def apply_products(session: AsyncSession, staging: str, job: FeedJob) -> dict[str, Any]:
    """Upsert products by SKU (an empty cell keeps the value); a full feed discontinues the
    active products it leaves out; product.upserted for each product changed."""
    created, updated, discontinued = await store.upsert_products(
        session, staging, full=job.scope == FeedScope.FULL
    )
    events = await store.announce_products(session, discontinued)
    return {
        "created": created,
        "updated": updated,
        "discontinued": len(discontinued),
        "events": events,
    }


async def apply_stock(session: AsyncSession, staging: str, job: FeedJob) -> dict[str, Any]:
    """On hand per SKU and warehouse (older rows skipped); a full feed zeroes what it leaves
    out of the warehouses it names; stock.changed for each level changed."""
    changed, zeroed = await store.set_stock(session, staging, full=job.scope == FeedScope.FULL)
    events = await store.announce_stock(session, [*changed, *zeroed])
    return {"changed": len(changed), "zeroed": len(zeroed), "events": events}


async def apply_categories(session: AsyncSession, staging: str, job: FeedJob) -> dict[str, Any]:
    return await categories.apply_categories(session, staging)


async def apply_attributes(session: AsyncSession, staging: str, job: FeedJob) -> dict[str, Any]:
    return await attributes.apply_definitions(session, staging)
