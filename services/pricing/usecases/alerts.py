"""Pricing's client alerts: ladder progress after an order or a cancellation (in the consumer's
transaction), and one check of contract prices that end soon (workers.py runs it daily). Both
write their events to the outbox in the transaction that found them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.domain.alerts import expiry_window, ladder_alert, period_start
from services.pricing.domain.ladder import Level, levels_of
from services.pricing.settings import Settings
from services.pricing.store import alerts as store
from shared.clock import utcnow
from shared.contracts.pricing import ClientLadderProgressV1, LadderLevel
from shared.events.outbox import record_event


def _level(level: Level | None) -> LadderLevel | None:
    return None if level is None else LadderLevel.model_validate(level, from_attributes=True)


async def tell_ladder_progress(
    session: AsyncSession,
    company_id: uuid.UUID,
    *,
    placed_at: datetime,
    currency: str,
    amount_minor: int,
    nudge_percent: Decimal,
) -> None:
    """After an order's total was added to (or taken from) the turnover: tell the client when
    it came near the next level or reached one. Only in the current period: a late order of a
    closed period changes a retro bonus, not what the client can still reach."""
    now = utcnow()
    found = await store.ladder_turnover(session, company_id, placed_at.astimezone(UTC).date())
    if found is None or found.currency != currency or amount_minor == 0:
        return
    if found.period_start != period_start(found.period, now.date()):
        return
    alert = ladder_alert(
        levels_of(found.levels),
        found.turnover_minor - amount_minor,
        found.turnover_minor,
        nudge_percent,
    )
    if alert is None:
        return
    reached = alert.progress
    record_event(
        session,
        ClientLadderProgressV1(
            company_id=company_id,
            status=alert.status,
            ladder=found.code,
            period=found.period,
            period_start=found.period_start,
            currency=found.currency,
            turnover_minor=reached.turnover_minor,
            current_level=_level(reached.current),
            next_level=_level(reached.next),
            left_minor=reached.left_minor,
            changed_at=now,
        ),
    )


async def announce_expiring_prices(session: AsyncSession, settings: Settings) -> int:
    """One check: announce the contract prices ending within `contract_expiry_days`."""
    now = utcnow()
    after, until = expiry_window(now.date(), settings.contract_expiry_days)
    return await store.announce_expiring(session, after, until, now)
