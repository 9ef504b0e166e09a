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

from services.analytics.domain.base import current_base
from services.analytics.domain.metrics import classify, client_figures, client_metrics
from services.analytics.domain.rows import segment_rows
from services.analytics.domain.summary import sku_segments, summarise
from services.analytics.settings import Settings
from services.analytics.store import segments as store
from shared.clock import utcnow

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
    skus = sku_segments(
        await store.load_sku_months(session),
        await store.load_sku_revenue(session, as_of, d.abc_months),
        as_of,
        d,
    )
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


async def recompute_clients(
    session: AsyncSession, client_ids: list[uuid.UUID], as_of: datetime | None = None
) -> dict[str, Any]:
    """These clients' metrics against the stored base statistics of their currencies, in one
    polars pass; without stored statistics for one of the currencies (a fresh database, a new
    currency), or when the base moved since they were computed (domain/base.py), the whole base
    is recomputed instead."""
    d = definitions(session)
    as_of = as_of or utcnow()
    await store.lock(session)
    facts = await store.load_facts(session, as_of, d.history_months, client_ids)
    # A client is measured in its own currency (its orders' when accounts has not told yet).
    known = facts.clients.select("client_id", "currency").collect()
    strangers = facts.orders.filter(~pl.col("client_id").is_in(known["client_id"].implode()))
    currencies = set(known["currency"].drop_nulls().to_list()) | set(
        strangers.select("currency").collect()["currency"].to_list()
    )
    bases = await store.stored_bases(session)
    if bases is None or not currencies <= set(bases["currency"].to_list()):
        return await recompute_all(session, d, as_of)
    figures = client_figures(facts, as_of, d).collect()
    others = await store.others_in_base(session, client_ids)
    base = current_base(bases, others, figures, d.base_move_share)
    if base is None:
        log.info("the base moved: every client is recomputed", extra={"clients": len(client_ids)})
        return await recompute_all(session, d, as_of)
    return await store.replace_segments(session, segment_rows(classify(figures, base, d), as_of))


async def recompute_dirty(session: AsyncSession, limit: int = 5_000) -> dict[str, Any]:
    """One batch of the clients whose facts changed since their last recompute."""
    client_ids = await store.take_dirty(session, limit)
    if not client_ids:
        return {
            "clients": 0,
            "segment_changed": 0,
            "churn_risk_raised": 0,
            "concentration_alert": 0,
        }
    return await recompute_clients(session, client_ids)


async def recompute_dirty_clients(app: FastAPI) -> None:
    """Worker: every `dirty_poll_seconds`, recompute the clients events have touched."""
    d: Settings = app.state.settings
    while True:
        try:
            async with app.state.sessionmaker() as session, session.begin():
                result = await recompute_dirty(session, d.dirty_batch_size)
            if result["clients"]:
                continue  # more may be waiting
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("recompute of changed clients failed")
        await asyncio.sleep(d.dirty_poll_seconds)


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
