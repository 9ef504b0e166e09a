"""Price moves on the SKUs a client buys regularly (`client.regular_sku_prices_changed.v1`).
Pricing's price.changed is only queued by the consumer (comparing takes calls to pricing,
never made inside it); the price-check worker takes the queue one change at a time."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.clients.pricing import prices_now
from services.analytics.domain.alerts import price_moves
from services.analytics.settings import Settings
from services.analytics.store import alerts as store
from shared.clock import utcnow
from shared.contracts.analytics import ClientRegularSkuPricesChangedV1, PriceMove
from shared.contracts.pricing import PriceChangedV1
from shared.events.outbox import record_event
from shared.upstream import Upstreams


async def queue_price_change(session: AsyncSession, event: PriceChangedV1) -> None:
    await store.queue_price_check(session, event)


async def check_next_price_change(
    session: AsyncSession, upstreams: Upstreams, settings: Settings, now: datetime | None = None
) -> bool:
    """Compare one queued price change with what its clients paid; False when none waits.

    The check stays locked (and undone) until its events are written in the same transaction,
    so a crash or a pricing outage checks it again from the start, never tells twice."""
    check = await store.take_price_check(session)
    if check is None:
        return False
    now = now or utcnow()
    paid = await store.last_paid(
        session, check, settings.regular_sku_months, settings.regular_sku_min_months, now
    )
    told = 0
    if not paid.is_empty():
        now_prices = await prices_now(upstreams, paid)
        moves = price_moves(paid, now_prices, settings.price_move_min_percent)
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
