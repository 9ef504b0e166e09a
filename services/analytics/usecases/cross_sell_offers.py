"""Cross-sell offers (`client.cross_sell_offer.v1`): the periodic offer job computes every
client's assortment gaps in one polars pass and offers them to the clients not offered
anything lately, at most one offer per client every few days."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.domain.cross_sell import cross_sell_gaps
from services.analytics.settings import Settings
from services.analytics.store import alerts as store
from services.analytics.store import queries
from shared.clock import utcnow
from shared.contracts.analytics import ClientCrossSellOfferV1, CrossSellSuggestion, SuggestedSku
from shared.events.envelope import EventContract


async def offer_cross_sell(
    session: AsyncSession, settings: Settings, now: datetime | None = None
) -> int:
    """One run of the offer job: every client's gaps in one pass; an offer to each client that
    has gaps and was not offered anything in the last `cross_sell_offer_every_days`. Returns
    how many offers were written (events and their record, in this transaction)."""
    now = now or utcnow()
    await store.lock_offers(session)
    bought, clients = await store.everyones_purchases(session, settings.history_months, now)
    recent = await store.offered_recently(
        session, now - timedelta(days=settings.cross_sell_offer_every_days)
    )
    gaps = cross_sell_gaps(
        bought, clients, settings, top_categories=settings.cross_sell_offer_suggestions
    ).filter(~pl.col("client_id").is_in(sorted(recent)))
    if gaps.is_empty():
        return 0
    skus = gaps.select(pl.col("skus").explode().struct.field("sku")).unique().to_series()
    names = await queries.product_names(session, skus.drop_nulls().sort().to_list())
    events: list[EventContract] = []
    offers: list[dict[str, Any]] = []
    for (client_id,), suggestions in gaps.group_by("client_id", maintain_order=True):
        rows = suggestions.to_dicts()
        events.append(
            ClientCrossSellOfferV1(
                client_id=client_id,
                suggestions=[
                    CrossSellSuggestion(
                        category=g["category"],
                        peer_share=Decimal(str(g["peer_share"])),
                        reason=g["reason"],
                        skus=[
                            SuggestedSku(
                                sku=s["sku"],
                                name=names.get(s["sku"], s["sku"]),
                                peer_clients=s["peer_clients"],
                            )
                            for s in g["skus"] or []
                        ],
                    )
                    for g in rows
                ],
                offered_at=now,
            )
        )
        offers.append(
            {"client_id": client_id, "offered_at": now, "categories": [g["category"] for g in rows]}
        )
    await store.remember_offers(session, events, offers)
    return len(events)
