"""A client's and a client group's terms: the lists assigned to them and a client's discounts
by brand or category. Each write replaces the whole set and announces what it changed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.store import bulk_policy as batch_store
from services.pricing.store import policy as store
from services.pricing.store.models import Client
from services.pricing.usecases.changes import announce


async def assign_client_lists(session: AsyncSession, client: Client, codes: list[str]) -> list[str]:
    """The client's lists become these (assignable ones only); its list codes after."""
    list_ids = await store.assignable_lists(session, codes)
    await batch_store.replace_client_lists(session, {client.id: list_ids})
    announce(
        session, "client.price_lists.replaced", client_ids=[client.company_id], rows=len(list_ids)
    )
    return await store.client_list_codes(session, client.id)


async def assign_group_lists(session: AsyncSession, group_code: str, codes: list[str]) -> list[str]:
    """The group's lists become these; the event names the lists that gained or lost it."""
    await store.lock_group(session, group_code)
    before = await store.group_list_codes(session, group_code)
    list_ids = await store.assignable_lists(session, codes)
    await batch_store.replace_group_lists(session, {group_code: list_ids})
    announce(
        session,
        "client_group.price_lists.replaced",
        list_codes=set(before) ^ set(codes),
        rows=len(list_ids),
    )
    return await store.group_list_codes(session, group_code)


async def replace_discounts(
    session: AsyncSession,
    client_to_change: Callable[[], Awaitable[Client]],
    discounts: list[dict[str, Any]],
) -> list[Any]:
    """The client's discounts become these, one per (scope, value): a repeat is a 422 naming
    the second, before the client is even looked up."""
    seen: set[tuple[str, str]] = set()
    for i, discount in enumerate(discounts):
        key = (discount["scope"], discount["value"])
        if key in seen:
            raise store.invalid(
                f"discounts[{i}].value",
                f"a second {discount['scope']} discount on {discount['value']!r}",
                i + 1,
            )
        seen.add(key)
    client = await client_to_change()
    rows = await store.replace_discounts(session, client.id, discounts)
    announce(session, "client.discounts.replaced", client_ids=[client.company_id], rows=rows)
    return await store.client_discounts(session, client.id)
