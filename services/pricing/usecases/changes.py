"""How every price change tells the world: its `price.changed` in the transaction's outbox,
and this process's cached prices dropped once it commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.price_book.engine import drop_once_committed
from services.pricing.store.policy import record_price_change


def announce(session: AsyncSession, cause: str, **change: Any) -> None:
    """Record the change's price.changed, and drop the cached prices of this process once it
    commits (other processes hear the event; the relay publishes it after the commit)."""
    drop_once_committed(session, record_price_change(session, cause, **change))
