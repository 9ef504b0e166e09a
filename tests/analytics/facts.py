"""Small hand-made facts for the metric tests: orders placed N days before `AS_OF`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.analytics.domain.facts import Facts
from services.analytics.domain.metrics import client_metrics
from services.analytics.settings import Settings

AS_OF = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


def definitions(**overrides: Any) -> Settings:
    return Settings(environment="test", **overrides)


def order(
    client: str,
    days_ago: float = 0,
    total: int = 1000,
    *,
    cost: int | None = None,
    at: datetime | None = None,
    currency: str = "EUR",
    on_time: bool | None = None,
    in_full: bool | None = None,
) -> dict[str, Any]:
    return {
        "client_id": client,
        "currency": currency,
        "placed_at": at or AS_OF - timedelta(days=days_ago),
        "total_minor": total,
        "costed_minor": total if cost is not None else 0,
        "cost_minor": cost or 0,
        "delivered": on_time is not None or in_full is not None,
        "on_time": on_time,
        "in_full": in_full,
    }


def monthly(client: str, values: list[int], *, last: tuple[int, int] = (2026, 10)) -> list[dict]:
    """One order on the 10th of each month, the last value in month `last`."""
    year, month = last
    out = []
    for value in reversed(values):
        if value:
            out.append(order(client, at=datetime(year, month, 10, tzinfo=UTC), total=value))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out


def client(client_id: str, currency: str = "EUR", **fields: Any) -> dict[str, Any]:
    return {"client_id": client_id, "currency": currency, **fields}


def metrics(
    orders, clients=None, feedback=None, *, as_of: datetime = AS_OF, **overrides
) -> dict[str, dict[str, Any]]:
    """{client id: its row} for the hand-made facts, as of `as_of`."""
    ids = sorted({o["client_id"] for o in orders} | {c["client_id"] for c in clients or []})
    known = {c["client_id"] for c in clients or []}
    clients = [*(clients or []), *(client(i) for i in ids if i not in known)]
    frame, _ = client_metrics(Facts.of(orders, clients, feedback), as_of, definitions(**overrides))
    return {row["client_id"]: row for row in frame.to_dicts()}
