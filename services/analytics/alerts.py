"""Analytics' alerts to clients, from what it knows of their purchases:

* a SKU of a client's own A class ran out of stock (catalog's stock.changed, in the handler's
  transaction): `client.key_sku_out_of_stock.v1`;
* a price change moved the price of SKUs a client buys regularly (pricing's price.changed is
  queued by the handler; the price-check worker asks pricing for the clients' prices now, one
  call per client, and compares them with what they paid): `client.regular_sku_prices_changed.v1`;
* cross-sell gaps (the periodic offer job, one polars pass over the base, at most one offer per
  client every few days): `client.cross_sell_offer.v1`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
from fastapi import FastAPI
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.domain.alerts import key_sku_clients, out_of_stock, price_moves
from services.analytics.domain.cross_sell import cross_sell_gaps
from services.analytics.recompute import definitions
from services.analytics.settings import Settings
from services.analytics.store import alerts as store
from services.analytics.store import queries
from services.analytics.store.models import StockLevel
from shared.clock import utcnow
from shared.contracts import stock_levels
from shared.contracts.analytics import (
    ClientCrossSellOfferV1,
    ClientKeySkuOutOfStockV1,
    ClientRegularSkuPricesChangedV1,
    CrossSellSuggestion,
    PriceMove,
    SuggestedSku,
)
from shared.contracts.catalog import StockChangedV1
from shared.contracts.pricing import PriceChangedV1
from shared.events.outbox import OutboxMessage, outbox_rows, record_event
from shared.upstream import Upstreams

log = logging.getLogger(__name__)
RESOLVE_MAX_LINES = 5_000
PRICING_CALLS_IN_FLIGHT = 8


# Stock ----------------------------------------------------------------------------------------


async def handle_stock_changed(events: list[StockChangedV1], session: AsyncSession) -> None:
    """Stock levels, a batch at a time. A SKU available somewhere and now nowhere: each client
    whose A class it is hears it."""
    for move in await stock_levels.apply_to(session, StockLevel, events):
        if out_of_stock(move.before, move.after):  # rare: the queries for it are per SKU
            await _tell_key_sku_out(session, move.sku)


async def _tell_key_sku_out(session: AsyncSession, sku: str) -> None:
    d = definitions(session)
    now = utcnow()
    purchases = await store.buyers_purchases(session, sku, d.abc_months, now)
    if purchases.is_empty():
        return
    found = key_sku_clients(purchases, sku, d)
    if found.is_empty():
        return
    managers, name = await store.managers_and_name(session, found["client_id"].to_list(), sku)
    for row in found.iter_rows(named=True):  # one event per client concerned
        record_event(
            session,
            ClientKeySkuOutOfStockV1(
                client_id=row["client_id"],
                sku=sku,
                name=name,
                currency=row["currency"],
                revenue_minor=row["revenue_minor"],
                revenue_share=Decimal(str(row["revenue_share"])),
                last_bought_at=row["last_at"],
                sales_manager_id=managers.get(row["client_id"]),
                out_at=now,
            ),
        )


# Prices ---------------------------------------------------------------------------------------


async def handle_price_changed(event: PriceChangedV1, session: AsyncSession) -> None:
    """Queued, not checked here: comparing takes calls to pricing, never inside the consumer."""
    await store.queue_price_check(session, event)


async def _prices_now(upstreams: Upstreams, paid: pl.DataFrame) -> pl.DataFrame:
    """Each client's price today for the quantity it last bought, one resolve call per client
    (and currency), a few calls in flight."""
    gate = asyncio.Semaphore(PRICING_CALLS_IN_FLIGHT)

    async def one(client_id: str, currency: str, lines: pl.DataFrame) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, lines.height, RESOLVE_MAX_LINES):
            chunk = lines.slice(start, RESOLVE_MAX_LINES)
            async with gate:
                answer = await upstreams.call(
                    "pricing",
                    "POST",
                    "/prices/resolve",
                    idempotent=True,
                    json={
                        "client_id": client_id,
                        "currency": currency,
                        "lines": [
                            {"sku": s, "quantity": q}
                            for s, q in zip(chunk["sku"], chunk["quantity"], strict=True)
                        ],
                    },
                )
            if answer.status_code == 404:  # pricing does not know the client (yet)
                return []
            answer.raise_for_status()
            found += [
                {
                    "client_id": client_id,
                    "sku": line["sku"],
                    "new_unit_price_minor": line["unit_price_minor"],
                }
                for line in answer.json()["lines"]
            ]
        return found

    calls = [
        one(client_id, currency, lines)
        for (client_id, currency), lines in paid.group_by(
            "client_id", "currency", maintain_order=True
        )
    ]
    rows = [row for found in await asyncio.gather(*calls) for row in found]
    return pl.DataFrame(
        rows,
        schema={"client_id": pl.String, "sku": pl.String, "new_unit_price_minor": pl.Int64},
        orient="row",
    )


async def check_next_price_change(
    session: AsyncSession, upstreams: Upstreams, d: Settings, now: datetime | None = None
) -> bool:
    """Compare one queued price change with what its clients paid; False when none waits.

    The check stays locked (and undone) until its events are written in the same transaction,
    so a crash or a pricing outage checks it again from the start, never tells twice."""
    check = await store.take_price_check(session)
    if check is None:
        return False
    now = now or utcnow()
    paid = await store.last_paid(
        session, check, d.regular_sku_months, d.regular_sku_min_months, now
    )
    told = 0
    if not paid.is_empty():
        moves = price_moves(paid, await _prices_now(upstreams, paid), d.price_move_min_percent)
        for (client_id, currency), skus in moves.group_by(
            "client_id", "currency", maintain_order=True
        ):
            record_event(
                session,
                ClientRegularSkuPricesChangedV1(
                    client_id=client_id,
                    change_id=check.change_id,
                    currency=currency,
                    skus=[
                        PriceMove(
                            sku=m["sku"],
                            name=m["name"],
                            quantity=Decimal(m["quantity"]),
                            old_unit_price_minor=m["old_unit_price_minor"],
                            new_unit_price_minor=m["new_unit_price_minor"],
                            change_percent=Decimal(str(m["change_percent"])),
                        )
                        for m in skus.iter_rows(named=True)
                    ],
                    changed_at=check.changed_at,
                ),
            )
            told += 1
    await store.finish_price_check(session, check.change_id, told)
    return True


async def check_price_changes(app: FastAPI) -> None:
    """Worker: take the queued price changes one by one."""
    d: Settings = app.state.settings
    while True:
        try:
            async with app.state.sessionmaker() as session, session.begin():
                found = await check_next_price_change(session, app.state.upstreams, d)
            if found:
                continue
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("price change check failed; retried")
        await asyncio.sleep(d.price_check_poll_seconds)


# Cross-sell offers ----------------------------------------------------------------------------

OFFERS_LOCK = "SELECT pg_advisory_xact_lock(hashtext('analytics.cross_sell_offers'))"


async def offer_cross_sell(session: AsyncSession, d: Settings, now: datetime | None = None) -> int:
    """One run of the offer job: every client's gaps in one pass; an offer to each client that
    has gaps and was not offered anything in the last `cross_sell_offer_every_days`. Returns
    how many offers were written (events and their record, in this transaction)."""
    now = now or utcnow()
    await session.execute(text(OFFERS_LOCK))
    bought, clients = await store.everyones_purchases(session, d.history_months, now)
    recent = await store.offered_recently(
        session, now - timedelta(days=d.cross_sell_offer_every_days)
    )
    gaps = cross_sell_gaps(
        bought, clients, d, top_categories=d.cross_sell_offer_suggestions
    ).filter(~pl.col("client_id").is_in(sorted(recent)))
    if gaps.is_empty():
        return 0
    skus = gaps.select(pl.col("skus").explode().struct.field("sku")).unique().to_series()
    names = await queries.product_names(session, skus.drop_nulls().sort().to_list())
    events, offers = [], []
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
            {
                "client_id": client_id,
                "offered_at": now,
                "categories": [g["category"] for g in rows],
            }
        )
    await session.execute(
        insert(OutboxMessage), outbox_rows(events, session.info.get("service", "analytics"))
    )
    await store.remember_offers(session, offers)
    return len(events)


async def offer_cross_sell_periodically(app: FastAPI) -> None:
    """Worker: the offer job every `cross_sell_offer_interval_seconds` (0: never)."""
    d: Settings = app.state.settings
    if not d.cross_sell_offer_interval_seconds:
        return
    while True:
        await asyncio.sleep(d.cross_sell_offer_interval_seconds)
        try:
            async with app.state.sessionmaker() as session, session.begin():
                offered = await offer_cross_sell(session, d)
            log.info("cross-sell offers made", extra={"clients": offered})
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("cross-sell offer job failed")
