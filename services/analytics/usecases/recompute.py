"""Recomputing segments: the whole base (periodically, or on request), or some clients after
events or feedback touched them. Both take the same lock, use the same polars code, and emit
`client.segment_changed` / `client.churn_risk_raised` only for real changes."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.domain.base import current_base
from services.analytics.domain.figures import client_figures
from services.analytics.domain.metrics import classify, client_metrics
from services.analytics.domain.rows import segment_rows
from services.analytics.domain.summary import sku_segments, summarise
from services.analytics.settings import Settings
from services.analytics.store import segments as store
from shared.clock import utcnow

log = logging.getLogger(__name__)


async def recompute_all(
    session: AsyncSession, settings: Settings, as_of: datetime | None = None
) -> dict[str, Any]:
    """Every client's metrics and segments, the base stats and summary, the SKU segments."""
    as_of = as_of or utcnow()
    started = time.perf_counter()
    await store.lock(session)
    facts = await store.load_facts(session, as_of, settings.history_months)
    loaded = time.perf_counter()
    frame, base = client_metrics(facts, as_of, settings)
    rows = segment_rows(frame, as_of)
    window = facts.orders.filter(pl.col("placed_at") <= as_of)
    summary = summarise(frame, window, facts.feedback, as_of, settings)
    skus = sku_segments(
        await store.load_sku_months(session),
        await store.load_sku_revenue(session, as_of, settings.abc_months),
        as_of,
        settings,
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
    session: AsyncSession,
    settings: Settings,
    client_ids: list[uuid.UUID],
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """These clients' metrics against the stored base statistics of their currencies, in one
    polars pass; without stored statistics for one of the currencies (a fresh database, a new
    currency), or when the base moved since they were computed (domain/base.py), the whole base
    is recomputed instead."""
    as_of = as_of or utcnow()
    await store.lock(session)
    facts = await store.load_facts(session, as_of, settings.history_months, client_ids)
    # A client is measured in its own currency (its orders' when accounts has not told yet).
    known = facts.clients.select("client_id", "currency").collect()
    strangers = facts.orders.filter(~pl.col("client_id").is_in(known["client_id"].implode()))
    currencies = set(known["currency"].drop_nulls().to_list()) | set(
        strangers.select("currency").collect()["currency"].to_list()
    )
    bases = await store.stored_bases(session)
    if bases is None or not currencies <= set(bases["currency"].to_list()):
        return await recompute_all(session, settings, as_of)
    figures = client_figures(facts, as_of, settings).collect()
    others = await store.others_in_base(session, client_ids)
    base = current_base(bases, others, figures, settings.base_move_share)
    if base is None:
        log.info("the base moved: every client is recomputed", extra={"clients": len(client_ids)})
        return await recompute_all(session, settings, as_of)
    rows = segment_rows(classify(figures, base, settings), as_of)
    return await store.replace_segments(session, rows)


async def recompute_dirty(
    session: AsyncSession, settings: Settings, limit: int | None = None
) -> dict[str, Any]:
    """One batch (`dirty_batch_size` unless `limit`) of the clients whose facts changed since
    their last recompute."""
    client_ids = await store.take_dirty(session, limit or settings.dirty_batch_size)
    if not client_ids:
        return {
            "clients": 0,
            "segment_changed": 0,
            "churn_risk_raised": 0,
            "concentration_alert": 0,
        }
    return await recompute_clients(session, settings, client_ids)
