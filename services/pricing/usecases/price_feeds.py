"""The ERP price feed, streamed: list entries and client prices, delta or full, factored.

A matrix feed can be 100 M rows, so nothing here holds the file whole. Pass 1 reads it in
batches, checks each batch with the kernel's polars rules, maps codes to ids, finds duplicate
cells with a bitmap over (client, SKU), and writes the good client cells to an Arrow file next
to the upload. A full client feed is then factored (domain.factoring): two more passes over
that Arrow file. Everything the database gets goes in by binary COPY, and everything is
applied in one transaction with the job's outcome, so a failed or rejected feed changes
nothing.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.ipc as ipc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.pricing.domain import governance
from services.pricing.domain.feed_plan import CELL_SCHEMA, FirstPass, Plan
from services.pricing.domain.feed_rows import CellIndex, Rejected, check_others
from services.pricing.price_book.engine import drop_once_committed
from services.pricing.store import feed_jobs, versions
from services.pricing.store.feed_apply import apply_rows
from services.pricing.store.feed_files import diff_path, read_batches, total_rows, write_diff
from services.pricing.store.feed_jobs import Job, references
from services.pricing.usecases.feed_factoring import first_pass_batch, plan_cells
from shared.clock import utcnow
from shared.contracts.pricing import PriceChangedV1
from shared.events.outbox import record_event
from shared.feeds.models import FeedFormat, FeedJob, FeedMode, FeedScope, JobState
from shared.feeds.spec import FeedSpec
from shared.feeds.validation import (
    REJECTION_SCHEMA,
    ROW,
    UnreadableFeed,
    write_report,
)

MAX_BITMAP_BYTES = 512 * 1024 * 1024


MAX_NAMED_CLIENTS = 1_000  # more, and price.changed says `matrix` instead of naming them


async def process_prices(
    sessionmaker: async_sessionmaker[AsyncSession], spec: FeedSpec, job: FeedJob, data_dir: Path
) -> None:
    work = data_dir / "feeds" / spec.kind / f"{job.id}.work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        await _run(Job(sessionmaker, spec, job, work), data_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def _run(run: Job, data_dir: Path) -> None:
    job = run.job
    path, fmt = Path(job.file_path), FeedFormat(job.format)
    async with run.sessionmaker() as session:
        refs = await references(session)
    expected = await asyncio.to_thread(total_rows, path, fmt)
    first = FirstPass()
    index = CellIndex(refs)
    if refs.bitmap_bytes > MAX_BITMAP_BYTES:
        raise UnreadableFeed("too many clients x SKUs for one feed; split it by client")
    cells_path = run.work / "cells.arrow"
    batches = read_batches(path, fmt)
    with ipc.new_file(cells_path, CELL_SCHEMA) as sink:
        while (raw := await asyncio.to_thread(next, batches, None)) is not None:
            await asyncio.to_thread(first_pass_batch, run.spec, raw, refs, index, first, sink)
            progress = 0.5 * first.rows_total / expected if expected else 0.25
            await run.set(
                stage=f"checked {first.rows_total:,} rows",
                progress=min(progress, 0.5),
                rows_total=first.rows_total,
                heartbeat_at=utcnow(),
            )
    others = pl.concat(first.others, how="diagonal_relaxed") if first.others else None
    if others is not None and others.height:
        first.rejections.append(await asyncio.to_thread(check_others, others, index))
    rejections = (
        pl.concat(first.rejections) if first.rejections else pl.DataFrame(schema=REJECTION_SCHEMA)
    )
    full = job.scope == FeedScope.FULL
    report = data_dir / "feeds" / run.spec.kind / f"{job.id}.rejections.csv"
    # A second attempt only when skipping bad rows and the database found more of them.
    for _ in range(2):
        bad_rows = rejections[ROW].n_unique()
        summary: dict[str, Any] = {
            "rows_total": first.rows_total,
            "rows_rejected": bad_rows,
            "report_path": str(report) if bad_rows else None,
        }
        if bad_rows:
            await asyncio.to_thread(write_report, rejections.sort(ROW, "field"), report)
        if bad_rows and job.mode == FeedMode.ALL_OR_NOTHING:
            await run.set(
                state=JobState.REJECTED,
                stage="done",
                rows_applied=0,
                progress=1.0,
                finished_at=utcnow(),
                error=f"{bad_rows} of {first.rows_total} rows are invalid; nothing was applied",
                **summary,
            )
            return
        if bad_rows and others is not None:
            others = others.join(rejections.select(ROW).unique(), on=ROW, how="anti")
        plan = await plan_cells(run, first, cells_path, full, rejections)
        await run.set(
            state=JobState.APPLYING, stage="applying", progress=0.8, heartbeat_at=utcnow()
        )
        try:
            await _apply_all(run, first, plan, others, full, summary)
        except Rejected as found:
            rejections = pl.concat([rejections, found.rejections])
            continue
        except Held as held:
            await _held(run, data_dir, held, summary)
            return
        return
    raise RuntimeError("rows rejected by the database twice")


class Held(Exception):
    """The feed was applied in its transaction but must not commit: a dry run, a guardrail
    it breaks, or an approval it waits for. The transaction rolls back; `outcome` says why."""

    def __init__(self, outcome: str, diff: pl.DataFrame, summary: dict[str, Any]) -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.diff = diff
        self.summary = summary
        self.breaches = pl.DataFrame(schema=REJECTION_SCHEMA)
        self.waiting: list[str] = []


async def _govern(session: AsyncSession, run: Job, full_matrix: bool) -> dict[str, Any]:
    """After the apply, before the commit: measure the diff against the guardrails and the
    job's options. Raises Held to roll back; returns the diff's summary to commit with."""
    options = run.job.options or {}
    diff = await versions.read_diff(session)
    summary = governance.summarise(diff)
    if full_matrix:
        summary["full_matrix"] = "a factored full client feed: client prices not diffed"
    if options.get("dry_run"):
        raise Held("dry_run", diff, summary)
    limits = await versions.limits(session)
    if not options.get("override"):
        found = governance.breaches(diff, limits)
        if found.height:
            held = Held("stopped", diff, summary)
            held.breaches = found
            raise held
    waiting = governance.needs_approval(diff, limits)
    if waiting and not options.get("approved_by"):
        held = Held("staged", diff, summary)
        held.waiting = waiting
        raise held
    return summary


async def _apply_all(
    run: Job,
    first: FirstPass,
    plan: Plan,
    others: pl.DataFrame | None,
    full: bool,
    summary: dict[str, Any],
) -> None:
    """One transaction: the prices, their version, the events and the job's success."""
    applied = first.rows_total - summary["rows_rejected"]
    async with run.sessionmaker() as session, session.begin():
        await feed_jobs.lock_feeds(session)
        result = await apply_rows(session, run, plan, others, full)
        result.update(plan.report())
        full_matrix = bool(full and plan.clients)
        diff = await _govern(session, run, full_matrix)
        options = run.job.options or {}
        cause = f"{options.get('source', 'feed')}:{run.job.id}"  # list_edit: a list's entries
        version = await versions.record_version(
            session,
            cause=cause,
            created_by=run.job.owner,
            diff=diff,
            job_id=run.job.id,
            approved_by=options.get("approved_by"),
            override=options.get("override"),
            restorable=not full_matrix,
        )
        result.update(version=version.id, diff=diff)
        companies = result.pop("company_ids")
        many = len(companies) > MAX_NAMED_CLIENTS  # then the event says "every client"
        list_codes = result.pop("list_codes")
        changed = PriceChangedV1(
            change_id=uuid.uuid4(),
            cause=cause,
            matrix=full_matrix or many,
            list_codes=list_codes,
            client_ids=[] if many else companies,
            sku_from=result.pop("sku_from"),
            sku_to=result.pop("sku_to"),
            rows=applied,
            changed_at=utcnow(),
        )
        record_event(session, changed)
        drop_once_committed(session, changed)
        record_event(
            session,
            versions.applied_event(
                version, list_codes=list_codes, client_ids=[] if many else companies
            ),
        )
        await feed_jobs.finish(
            session,
            run.job.id,
            state=JobState.SUCCEEDED,
            stage="done",
            progress=1.0,
            rows_applied=applied,
            result=result,
            finished_at=utcnow(),
            **summary,
        )


async def _held(run: Job, data_dir: Path, held: Held, summary: dict[str, Any]) -> None:
    """Record a feed that did not apply: a dry run, stopped by guardrails, or staged."""
    await asyncio.to_thread(write_diff, held.diff, diff_path(data_dir, run.job.id))
    result: dict[str, Any] = {"diff": held.summary}
    values: dict[str, Any] = {"rows_applied": 0, "progress": 1.0, "finished_at": utcnow()}
    if held.outcome == "dry_run":
        result["dry_run"] = True
        values.update(state=JobState.SUCCEEDED, stage="dry run: nothing applied")
    elif held.outcome == "stopped":
        report = data_dir / "feeds" / run.spec.kind / f"{run.job.id}.rejections.csv"
        await asyncio.to_thread(write_report, held.breaches, report)
        rows = held.breaches.filter(pl.col(ROW) > 0)[ROW].n_unique()
        result["guardrails"] = held.breaches.head(50).to_dicts()
        values.update(
            state=JobState.REJECTED,
            stage="stopped by guardrails",
            report_path=str(report),
            rows_rejected=rows,
            error=(
                f"{held.breaches.height} guardrail breaches ({rows} rows); nothing was applied. "
                "A pricing manager or an admin may override them with a reason."
            ),
        )
    else:
        result["awaiting_approval"] = held.waiting
        values.update(
            state=JobState.STAGED,
            stage="awaiting approval by a pricing manager",
            error=None,
        )
    summary = {k: v for k, v in summary.items() if k not in values}
    await run.set(result=result, **summary, **values)
