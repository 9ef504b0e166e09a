"""A price feed job's row (its state, stage and progress) and what its checks look up: the
codes of clients, lists and SKUs. One price feed applies at a time (LOCK)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.pricing.domain.feed_rows import References
from shared.feeds.models import FeedJob
from shared.feeds.spec import FeedSpec

LOCK = 7_401_001  # one price feed applies at a time: they touch the same lists and clients


@dataclass
class Job:
    sessionmaker: async_sessionmaker[AsyncSession]
    spec: FeedSpec
    job: FeedJob
    work: Path

    async def set(self, **values: Any) -> None:
        async with self.sessionmaker() as session, session.begin():
            await session.execute(update(FeedJob).where(FeedJob.id == self.job.id).values(**values))


async def references(session: AsyncSession) -> References:
    async def frame(query: str, schema: dict[str, Any]) -> pl.DataFrame:
        rows = (await session.execute(text(query))).all()
        return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")

    return References(
        clients=await frame(
            "SELECT external_id, id FROM clients WHERE external_id IS NOT NULL",
            {"client": pl.Utf8, "client_id": pl.Int64},
        ),
        lists=await frame(
            "SELECT code, id, currency, is_matrix FROM price_lists",
            {
                "list": pl.Utf8,
                "list_id": pl.Int64,
                "list_currency": pl.Utf8,
                "is_matrix": pl.Boolean,
            },
        ),
        skus=await frame("SELECT sku, id FROM skus", {"sku": pl.Utf8, "sku_id": pl.Int64}),
    )


async def lock_feeds(session: AsyncSession) -> None:
    """Until the transaction ends, no other price feed (or list edit) applies."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})


async def finish(session: AsyncSession, job_id: uuid.UUID, **values: Any) -> None:
    """The job's outcome, in the transaction that applied it."""
    await session.execute(update(FeedJob).where(FeedJob.id == job_id).values(**values))
