"""Runs feed jobs: durable in PostgreSQL, taken with SKIP LOCKED, applied in one transaction.

A job survives a crash: it is a row, its file is on disk, and a job whose worker stopped
heartbeating is taken again (up to MAX_ATTEMPTS). Applying is one transaction that also
marks the job done, so a job is either applied and finished, or neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
from fastapi import FastAPI
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import utcnow
from shared.feeds.models import FeedFormat, FeedJob, FeedMode, JobState
from shared.feeds.spec import FeedSpec
from shared.feeds.validation import (
    REJECTION_SCHEMA,
    ROW,
    Checked,
    UnreadableFeed,
    check_frame,
    read_feed,
    write_report,
)
from shared.workers import Worker, periodic

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 60
STAGING = "feed_staging"

CLAIM = text(
    """
    UPDATE feed_jobs SET
        state = 'validating', stage = 'reading', attempts = attempts + 1,
        started_at = coalesce(started_at, :now), heartbeat_at = :now
    WHERE id = (
        SELECT id FROM feed_jobs
        WHERE kind = ANY(:kinds) AND (
            state = 'queued'
            OR (state IN ('validating', 'applying')
                AND heartbeat_at < CAST(:now AS timestamptz) - make_interval(secs => :stale))
        )
        ORDER BY created_at
        FOR UPDATE SKIP LOCKED
        LIMIT 1
    )
    RETURNING id
    """
)


class _Rejected(Exception):
    """All-or-nothing feed with bad rows: roll back everything."""


async def _set(
    sessionmaker: async_sessionmaker[AsyncSession], job_id: uuid.UUID, **values: Any
) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(update(FeedJob).where(FeedJob.id == job_id).values(**values))


async def _heartbeat(sessionmaker: async_sessionmaker[AsyncSession], job_id: uuid.UUID) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        with contextlib.suppress(Exception):
            await _set(sessionmaker, job_id, heartbeat_at=utcnow())


async def claim_next(
    sessionmaker: async_sessionmaker[AsyncSession], kinds: Sequence[str]
) -> FeedJob | None:
    async with sessionmaker() as session, session.begin():
        job_id = await session.scalar(
            CLAIM, {"kinds": list(kinds), "stale": STALE_SECONDS, "now": utcnow()}
        )
        if job_id is None:
            return None
        job = await session.get(FeedJob, job_id)
        assert job is not None
        if job.attempts > MAX_ATTEMPTS:
            job.state, job.finished_at = JobState.FAILED, utcnow()
            job.error = f"gave up after {MAX_ATTEMPTS} attempts (the worker stopped each time)"
            return None
        return job


def _csv_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    # Nulls as empty unquoted fields: COPY ... CSV reads those as NULL.
    frame.write_csv(buffer, include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.f%z")
    return buffer.getvalue()


async def load_staging(session: AsyncSession, spec: FeedSpec, valid: pl.DataFrame) -> None:
    """Create the job's temporary staging table and COPY the valid rows into it."""
    columns = ", ".join(f'"{c.name}" {c.pg_type}' for c in spec.columns)
    await session.execute(
        text(f"CREATE TEMP TABLE {STAGING} ({ROW} bigint PRIMARY KEY, {columns}) ON COMMIT DROP")
    )
    if valid.height == 0:
        return
    payload = await asyncio.to_thread(
        _csv_bytes, valid.select(ROW, *(c.name for c in spec.columns))
    )
    raw = await (await session.connection()).get_raw_connection()
    await raw.driver_connection.copy_to_table(  # type: ignore[union-attr]
        STAGING,
        source=io.BytesIO(payload),
        format="csv",
        columns=[ROW, *(c.name for c in spec.columns)],
    )
    await session.execute(text(f"ANALYZE {STAGING}"))


async def _database_rejections(session: AsyncSession, spec: FeedSpec) -> pl.DataFrame:
    found: list[tuple[int, str, str]] = []
    for check in spec.database_checks:
        found.extend(await check(session, STAGING))
    frame = pl.DataFrame(
        [(row, field, reason, None) for row, field, reason in found],
        schema=REJECTION_SCHEMA,
        orient="row",
    )
    if frame.height:
        await session.execute(
            text(f"DELETE FROM {STAGING} WHERE {ROW} = ANY(:rows)"),
            {"rows": frame.get_column(ROW).unique().to_list()},
        )
    return frame


async def process(
    sessionmaker: async_sessionmaker[AsyncSession], spec: FeedSpec, job: FeedJob, data_dir: Path
) -> None:
    """Validate and apply one claimed job, recording the outcome on the job row."""
    heartbeat = asyncio.create_task(_heartbeat(sessionmaker, job.id))
    try:
        await (spec.process or _process)(sessionmaker, spec, job, data_dir)
    except UnreadableFeed as exc:
        await _set(
            sessionmaker,
            job.id,
            state=JobState.FAILED,
            error=str(exc),
            finished_at=utcnow(),
            progress=1.0,
        )
    except Exception as exc:  # recorded on the job, so the caller sees it instead of a hang
        log.exception("feed job %s failed", job.id)
        await _set(
            sessionmaker,
            job.id,
            state=JobState.FAILED,
            error=f"internal error: {type(exc).__name__}",
            finished_at=utcnow(),
        )
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat


async def _process(
    sessionmaker: async_sessionmaker[AsyncSession], spec: FeedSpec, job: FeedJob, data_dir: Path
) -> None:
    raw = await asyncio.to_thread(read_feed, Path(job.file_path), FeedFormat(job.format))
    await _set(sessionmaker, job.id, stage="checking rows", progress=0.2, rows_total=raw.height)
    checked: Checked = await asyncio.to_thread(check_frame, spec, raw)
    del raw
    await _set(sessionmaker, job.id, stage="loading staging table", progress=0.4)
    report_path = data_dir / "feeds" / spec.kind / f"{job.id}.rejections.csv"
    try:
        async with sessionmaker() as session, session.begin():
            await load_staging(session, spec, checked.valid)
            rejections = pl.concat([checked.rejections, await _database_rejections(session, spec)])
            bad_rows = rejections.get_column(ROW).n_unique()
            summary: dict[str, Any] = {
                "rows_total": checked.rows_total,
                "rows_rejected": bad_rows,
                "report_path": str(report_path) if bad_rows else None,
                "finished_at": utcnow(),
                "progress": 1.0,
            }
            if bad_rows:
                await asyncio.to_thread(write_report, rejections.sort(ROW, "field"), report_path)
            if bad_rows and job.mode == FeedMode.ALL_OR_NOTHING:
                raise _Rejected
            await _set(
                sessionmaker, job.id, state=JobState.APPLYING, stage="applying", progress=0.6
            )
            assert spec.apply is not None, f"feed {spec.kind} has neither apply nor process"
            result = await spec.apply(session, STAGING, job)
            if checked.ignored_columns:
                result["ignored_columns"] = checked.ignored_columns
            await session.execute(
                update(FeedJob)
                .where(FeedJob.id == job.id)
                .values(
                    state=JobState.SUCCEEDED,
                    stage="done",
                    rows_applied=checked.rows_total - bad_rows,
                    result=result,
                    **summary,
                )
            )
    except _Rejected:
        await _set(
            sessionmaker,
            job.id,
            state=JobState.REJECTED,
            stage="done",
            rows_applied=0,
            error=f"{bad_rows} of {checked.rows_total} rows are invalid; nothing was applied",
            **summary,
        )


async def process_next(app: FastAPI, specs: Sequence[FeedSpec]) -> bool:
    """Take and run one waiting job of these kinds; False when there was none."""
    by_kind = {s.kind: s for s in specs}
    job = await claim_next(app.state.sessionmaker, list(by_kind))
    if job is None:
        return False
    await process(app.state.sessionmaker, by_kind[job.kind], job, Path(app.state.settings.data_dir))
    return True


def feed_worker(specs: Sequence[FeedSpec], poll_seconds: float = 1.0) -> Worker:
    """A ServiceSpec worker that runs this service's feed jobs until the app stops: at once
    while jobs wait, woken when this process queues one, otherwise every `poll_seconds`."""

    async def next_job(app: FastAPI) -> bool:
        return await process_next(app, specs)

    return periodic(next_job, every=poll_seconds, wake="feed_wakeup", name="feed_worker")
