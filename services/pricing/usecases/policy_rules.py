"""Commercial policy across clients: floor prices, promotions and turnover ladders, and which
ladder a client is on. Each write announces what it changed (floors and promotions as
`policy`, naming the SKU when there is one)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.store import policy as store
from services.pricing.store import policy_rules as rules_store
from services.pricing.store.models import Client, Ladder, Promotion
from services.pricing.usecases.changes import announce
from shared.problems import NotFound


async def set_floor(session: AsyncSession, sku: str, currency: str, price_minor: int) -> None:
    sku_id = await store.sku_id(session, sku)
    await rules_store.set_floor(session, sku_id, currency, price_minor)
    announce(session, "floor_price.set", policy=True, skus=[sku], rows=1)


async def remove_floor(session: AsyncSession, sku: str, currency: str) -> None:
    sku_id = await store.sku_id(session, sku)
    if not await rules_store.delete_floor(session, sku_id, currency):
        raise NotFound(f"SKU {sku!r} has no floor in {currency}.")
    announce(session, "floor_price.deleted", policy=True, skus=[sku], rows=1)


def _announce_promotion(session: AsyncSession, cause: str, promotion: Promotion) -> None:
    skus = [promotion.value] if promotion.scope == "sku" else []
    announce(session, cause, policy=True, skus=skus, rows=1)


async def add_promotion(session: AsyncSession, fields: dict[str, Any]) -> Promotion:
    """A promotion on a SKU names a known one (422 on `value` otherwise)."""
    if fields["scope"] == "sku":
        await store.sku_id(session, fields["value"], field="value", body=True)
    promotion = await rules_store.add_promotion(session, Promotion(**fields))
    _announce_promotion(session, "promotion.created", promotion)
    return promotion


async def remove_promotion(session: AsyncSession, code: str) -> None:
    promotion = await rules_store.get_promotion(session, code)
    await rules_store.remove_promotion(session, promotion)
    _announce_promotion(session, "promotion.deleted", promotion)


async def add_ladder(session: AsyncSession, ladder: Ladder) -> Ladder:
    ladder = await rules_store.add_ladder(session, ladder)
    announce(session, "ladder.created", policy=True, rows=1)
    return ladder


async def assign_ladder(session: AsyncSession, client: Client, ladder_code: str) -> Ladder:
    ladder = await rules_store.ladder_for_assignment(session, ladder_code)
    await rules_store.assign_ladder(session, client.id, ladder.id)
    announce(session, "client.ladder.assigned", client_ids=[client.company_id], rows=1)
    return ladder


async def unassign_ladder(session: AsyncSession, client: Client) -> None:
    if not await rules_store.unassign_ladder(session, client.id):
        raise NotFound("The client is on no ladder.")
    announce(session, "client.ladder.removed", client_ids=[client.company_id], rows=1)
