"""Recomputing segments: the whole base (periodically, or on request), or one client after an
event that touched it. Both take the same lock, use the same polars code, and emit
`client.segment_changed` / `client.churn_risk_raised` only for real changes."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import datetime
from typing import Any

import polars as pl
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.domain.metrics import client_metrics
from services.analytics.domain.rows import segment_rows
from services.analytics.domain.summary import sku_segments, summarise
from services.analytics.settings import Settings
from services.analytics.store import segments as store
from shared.db import utcnow

log = logging.getLogger(__name__)


def definitions(session: AsyncSession) -> Settings:
    """The service's settings, put on its sessions at start-up (defaults for a bare session)."""
    found = session.info.get("definitions")
    return found if isinstance(found, Settings) else Settings()


async def recompute_all(
    session: AsyncSession, d: Settings, as_of: datetime | None = None
) -> dict[str, Any]:
    """Every client's metrics and segments, the base stats and summary, the SKU segments."""
    as_of = as_of or utcnow()
    started = time.perf_counter()
    await store.lock(session)
    facts = await store.load_facts(session, as_of, d.history_months)
    loaded = time.perf_counter()
    frame, base = client_metrics(facts, as_of, d)
    rows = segment_rows(frame, as_of)
    window = facts.orders.filter(pl.col("placed_at") <= as_of)
    summary = summarise(frame, window, facts.feedback, as_of, d)
    skus = sku_segments(await store.load_sku_months(session), as_of, d)
    computed = time.perf_counter()
    counts = await store.replace_segments(session, rows)
    await store.save_base(session, base, summary, as_of)
    await store.save_sku_segments(session, skus, as_of)
    done = time.perf_counter()
    return {
        **counts,
        "skus": skus.height,
        "seconds": {
            "load": round(loaded - started, 3),
            "compute": round(computed - loaded, 3),
            "store": round(done - computed, 3),
        },
    }


async def recompute_client(
    session: AsyncSession, client_id: uuid.UUID, as_of: datetime | None = None
) -> dict[str, Any]:
    """One client's metrics against the stored base stats of its currency; without them (a
    new currency, a fresh database) the whole base is recomputed once."""
    d = definitions(session)
    as_of = as_of or utcnow()
    await store.lock(session)
    facts = await store.load_facts(session, as_of, d.history_months, client_id)
    currencies = pl.concat(
        [facts.clients.select("currency"), facts.orders.select("currency")]
    ).collect()["currency"]
    currency = currencies[0] if len(currencies) else None
    base = await store.stored_base(session, currency) if currency else None
    if base is None:
        return await recompute_all(session, d, as_of)
    base_frame = pl.DataFrame([base], infer_schema_length=None)
    frame, _ = client_metrics(facts, as_of, d, base=base_frame)
    rows = segment_rows(frame, as_of).filter(pl.col("client_id") == str(client_id))
    if rows.height == 0:
        return {"clients": 0, "segment_changed": 0, "churn_risk_raised": 0}
    row = rows.to_dicts()[0]
    row["client_id"] = client_id
    return await store.replace_client_segment(session, row)


async def recompute_periodically(app: FastAPI) -> None:
    """Worker: the full recompute every `recompute_interval_seconds` (0: never)."""
    d: Settings = app.state.settings
    if not d.recompute_interval_seconds:
        return
    while True:
        await asyncio.sleep(d.recompute_interval_seconds)
        try:
            async with app.state.sessionmaker() as session, session.begin():
                result = await recompute_all(session, d)
            log.info("segments recomputed", extra={"result": result})
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("segment recompute failed")


async def share_definitions(app: FastAPI) -> None:
    """Start-up: the event handlers read the definitions from their session."""
    app.state.sessionmaker.configure(
        info={"service": app.state.service, "definitions": app.state.settings}
    )
