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
import csv
import logging
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.ipc as ipc
import pyarrow.json as pa_json
import pyarrow.parquet as pq
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.pricing.domain import factoring, governance
from services.pricing.price_book.engine import invalidate_in_process
from services.pricing.store import versions
from shared import csvsafe
from shared.clock import utcnow
from shared.contracts.pricing import PriceChangedV1
from shared.events.outbox import record_event
from shared.feeds.models import FeedFormat, FeedJob, FeedMode, FeedScope, JobState
from shared.feeds.spec import FeedSpec
from shared.feeds.validation import (
    REJECTION_SCHEMA,
    ROW,
    UnreadableFeed,
    check_frame,
    write_report,
)
from shared.pgcopy import DATE_NEG_INF, DATE_POS_INF, SIGNATURE, TRAILER, Field, encode

log = logging.getLogger(__name__)

BATCH_ROWS = 500_000
COPY_ROWS = 500_000
MAX_BITMAP_BYTES = 512 * 1024 * 1024
MAX_NAMED_CLIENTS = 1_000  # more, and price.changed says `matrix` instead of naming them
LOCK = 7_401_001  # one price feed applies at a time: they touch the same lists and clients
ONE = 1000  # min_qty 1 in thousandths

CELL_SCHEMA = pa.schema(
    [
        (ROW, pa.int64()),
        ("client_id", pa.int64()),
        ("sku_id", pa.int64()),
        ("price", pa.int64()),
        ("currency", pa.string()),
    ]
)
CONTRACT_FIELDS = [
    Field("client_id", "int4"),
    Field("sku_id", "int4"),
    Field("price", "int8"),
    Field("valid_from", "date"),
    Field("valid_to", "date"),
    Field("min_qty", "numeric_milli"),
    Field("currency", "char3"),
]
CONTRACT_COLUMNS = [
    "client_id",
    "sku_id",
    "price_minor",
    "valid_from",
    "valid_to",
    "min_qty",
    "currency",
]


# ---------------------------------------------------------------- reading


def _text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col(c).cast(pl.Utf8, strict=False).str.strip_chars().replace("", None)
        for c in frame.columns
    )


def read_batches(path: Path, fmt: FeedFormat, rows: int = BATCH_ROWS) -> Iterator[pl.DataFrame]:
    """The file as text frames of `rows` rows, numbered from 1 (the kernel's _row)."""
    try:
        if fmt == FeedFormat.PARQUET:
            arrow_batches: Iterator[Any] = pq.ParquetFile(path).iter_batches(batch_size=rows)
        elif fmt == FeedFormat.CSV:
            with path.open(newline="", encoding="utf-8") as handle:
                names = next(csv.reader(handle), [])
            arrow_batches = pa_csv.open_csv(
                path,
                read_options=pa_csv.ReadOptions(block_size=32 << 20),
                convert_options=pa_csv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    # Only an empty cell is missing: Arrow's default also reads "NaN", "NA",
                    # "null" and "N/A" as missing, so `min_qty=NaN` became the default tier 1.
                    null_values=[""],
                    strings_can_be_null=True,
                ),
            )
        else:
            arrow_batches = pa_json.open_json(path)
        start = 1
        pending: list[pl.DataFrame] = []
        size = 0
        for batch in arrow_batches:
            pending.append(_text(pl.from_arrow(batch)))  # type: ignore[arg-type]
            size += batch.num_rows
            if size >= rows:
                frame = pl.concat(pending, how="diagonal")
                yield frame.with_row_index(ROW, offset=start).with_columns(
                    pl.col(ROW).cast(pl.Int64)
                )
                start += frame.height
                pending, size = [], 0
        if pending:
            frame = pl.concat(pending, how="diagonal")
            yield frame.with_row_index(ROW, offset=start).with_columns(pl.col(ROW).cast(pl.Int64))
    except (pa.ArrowInvalid, pl.exceptions.PolarsError, UnicodeDecodeError, OSError) as exc:
        raise UnreadableFeed(f"the file is not valid {fmt.value}: {exc}") from exc


def total_rows(path: Path, fmt: FeedFormat) -> int | None:
    if fmt == FeedFormat.PARQUET:
        return pq.ParquetFile(path).metadata.num_rows
    return None


# ---------------------------------------------------------------- pass 1: check and map


@dataclass
class References:
    clients: pl.DataFrame  # client, client_id
    lists: pl.DataFrame  # list, list_id, list_currency, is_matrix
    skus: pl.DataFrame  # sku, sku_id

    @property
    def bitmap_bytes(self) -> int:
        return self.width * (int(self.clients["client_id"].max() or 0) + 1) // 8 + 1

    @property
    def width(self) -> int:
        return int(self.skus["sku_id"].max() or 0) + 1


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


def _rejection(
    frame: pl.DataFrame,
    mask: pl.Expr,
    field: str,
    reason: pl.Expr | str,
    value: pl.Expr | None = None,
) -> pl.DataFrame:
    if value is None:
        value = pl.col(field) if field in frame.columns else pl.lit(None)
    return frame.filter(mask).select(
        ROW,
        pl.lit(field).alias("field"),
        (reason if isinstance(reason, pl.Expr) else pl.lit(reason)).alias("reason"),
        value.cast(pl.Utf8).alias("value"),
    )


@dataclass
class Checked:
    cells: pl.DataFrame  # factorable client cells (min_qty 1, open validity, upsert)
    others: pl.DataFrame  # list rows, tiered or dated client cells, deletes
    rejections: pl.DataFrame


def check_batch(spec: FeedSpec, raw: pl.DataFrame, refs: References) -> Checked:
    checked = check_frame(spec, raw)
    rows = (
        checked.valid.join(refs.clients, on="client", how="left")
        .join(refs.lists, on="list", how="left")
        .join(refs.skus, on="sku", how="left")
    )
    bad = [
        checked.rejections,
        _rejection(
            rows,
            pl.col("client").is_not_null() & pl.col("client_id").is_null(),
            "client",
            "is not a known client (ERP id)",
        ),
        _rejection(
            rows,
            pl.col("list").is_not_null() & pl.col("list_id").is_null(),
            "list",
            "is not a known price list",
        ),
        _rejection(
            rows,
            pl.col("is_matrix").fill_null(False),
            "list",
            "is derived from a matrix feed; send client prices instead",
        ),
        _rejection(rows, pl.col("sku_id").is_null(), "sku", "is not a known SKU"),
        _rejection(
            rows,
            pl.col("list_id").is_not_null() & (pl.col("currency") != pl.col("list_currency")),
            "currency",
            pl.format("differs from the list's currency {}", pl.col("list_currency")),
        ),
    ]
    rejections = pl.concat([b.cast(REJECTION_SCHEMA) for b in bad])
    rows = rows.join(rejections.select(ROW).unique(), on=ROW, how="anti").select(
        ROW,
        "client_id",
        "list_id",
        "sku_id",
        ((pl.col("min_qty").fill_null(1) * 1000).cast(pl.Int64)).alias("min_qty"),
        pl.col("price_minor").alias("price"),
        "currency",
        _days("valid_from", DATE_NEG_INF),
        _days("valid_to", DATE_POS_INF),
        (pl.col("action").fill_null("upsert") == "delete").alias("delete"),
    )
    factorable = (
        pl.col("client_id").is_not_null()
        & ~pl.col("delete")
        & (pl.col("min_qty") == ONE)
        & (pl.col("valid_from") == DATE_NEG_INF)
        & (pl.col("valid_to") == DATE_POS_INF)
    )
    return Checked(
        cells=rows.filter(factorable).select(ROW, "client_id", "sku_id", "price", "currency"),
        others=rows.filter(~factorable),
        rejections=rejections,
    )


def _days(column: str, open_value: int) -> pl.Expr:
    return pl.col(column).cast(pl.Int32).cast(pl.Int64).fill_null(open_value).alias(column)


class CellIndex:
    """Which (client, SKU) cells the file has given: a bitmap, so duplicates cost no memory."""

    def __init__(self, refs: References) -> None:
        self.width = refs.width
        self.bits = np.zeros(refs.bitmap_bytes, np.uint8)

    def positions(self, client_id: np.ndarray, sku_id: np.ndarray) -> np.ndarray:
        return client_id.astype(np.int64) * self.width + sku_id.astype(np.int64)

    def seen(self, positions: np.ndarray) -> np.ndarray:
        return ((self.bits[positions >> 3] >> (positions & 7).astype(np.uint8)) & 1).astype(bool)

    def add(self, cells: pl.DataFrame) -> pl.DataFrame:
        """Mark the batch's cells; return rejections for cells given before (or twice here)."""
        at = self.positions(cells["client_id"].to_numpy(), cells["sku_id"].to_numpy())
        repeated = self.seen(at)
        _, first = np.unique(at, return_index=True)
        again = np.ones(len(at), bool)
        again[first] = False
        duplicate = repeated | again
        np.bitwise_or.at(self.bits, at >> 3, (1 << (at & 7)).astype(np.uint8))
        return _rejection(
            cells.filter(pl.Series(duplicate)),
            pl.lit(True),
            "sku",
            "repeats this client's price for the SKU at quantity 1",
        ).cast(REJECTION_SCHEMA)


def check_others(others: pl.DataFrame, cells: CellIndex) -> pl.DataFrame:
    """Duplicate keys and overlapping validity among list rows and dated or tiered cells."""
    keyed = others.with_columns(
        pl.when(pl.col("list_id").is_not_null())
        .then(pl.format("L{}", pl.col("list_id")))
        .otherwise(pl.format("C{}", pl.col("client_id")))
        .alias("target")
    ).sort("target", "sku_id", "min_qty", "valid_from", ROW)
    group = ["target", "sku_id", "min_qty"]
    marked = keyed.with_columns(
        pl.col("valid_from").shift(1).over(group).alias("prev_from"),
        pl.col(ROW).shift(1).over(group).alias("prev_row"),
    )
    shown = pl.when(pl.col("valid_from") != DATE_NEG_INF).then(pl.col("valid_from").cast(pl.Date))
    duplicate = _rejection(
        marked,
        pl.col("valid_from") == pl.col("prev_from"),
        "valid_from",
        pl.format("repeats the key of row {}", pl.col("prev_row")),
        shown,
    )
    # A delete holds no validity: deleting the open price and giving a dated one for the
    # same cell is one ERP message ("the standing price is gone; this month's is X").
    # Each row meets the furthest end any earlier row reached, not only its neighbour's:
    # a short row inside a long one must not hide a later row inside it too.
    live = keyed.filter(~pl.col("delete")).with_columns(
        pl.col("valid_to").cum_max().over(group).alias("reach")
    )
    reached = live.with_columns(
        pl.col("reach").shift(1).over(group).alias("prev_reach"),
        pl.when(pl.col("valid_to") == pl.col("reach"))
        .then(pl.col(ROW))
        .forward_fill()
        .shift(1)
        .over(group)
        .alias("reach_row"),
        pl.col("valid_from").shift(1).over(group).alias("prev_from"),
    )
    overlap = _rejection(
        reached,
        (pl.col("valid_from") != pl.col("prev_from"))
        & (pl.col("valid_from") < pl.col("prev_reach")),
        "valid_from",
        pl.format("overlaps the validity of row {}", pl.col("reach_row")),
        shown,
    )
    # A dated price at quantity 1 next to the same client's open-ended one.
    dated = others.filter(
        pl.col("client_id").is_not_null() & ~pl.col("delete") & (pl.col("min_qty") == ONE)
    )
    clash = (
        dated.filter(
            pl.Series(
                cells.seen(
                    cells.positions(dated["client_id"].to_numpy(), dated["sku_id"].to_numpy())
                )
            )
        )
        if dated.height
        else dated
    )
    open_clash = _rejection(
        clash, pl.lit(True), "valid_from", "overlaps this client's open-ended price for the SKU"
    )
    return pl.concat([r.cast(REJECTION_SCHEMA) for r in (duplicate, overlap, open_clash)])


@dataclass
class FirstPass:
    rows_total: int = 0
    cells: int = 0
    others: list[pl.DataFrame] = field(default_factory=list)
    rejections: list[pl.DataFrame] = field(default_factory=list)
    anchors: np.ndarray | None = None
    anchor_cells: list[pl.DataFrame] = field(default_factory=list)
    clients: set[int] = field(default_factory=set)


# ---------------------------------------------------------------- the job


class Rejected(Exception):
    """The database found bad rows (validity overlapping stored prices): roll back."""

    def __init__(self, rejections: pl.DataFrame) -> None:
        super().__init__(f"{rejections.height} rows rejected")
        self.rejections = rejections


@dataclass
class Job:
    sessionmaker: async_sessionmaker[AsyncSession]
    spec: FeedSpec
    job: FeedJob
    work: Path

    async def set(self, **values: Any) -> None:
        async with self.sessionmaker() as session, session.begin():
            await session.execute(update(FeedJob).where(FeedJob.id == self.job.id).values(**values))


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
            await asyncio.to_thread(_first_pass_batch, run.spec, raw, refs, index, first, sink)
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
        plan = await _plan(run, first, cells_path, full, rejections)
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
        invalidate_in_process(lists=True, clients=None)
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
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})
        result = await _apply(session, run, plan, others, full)
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
        record_event(
            session,
            PriceChangedV1(
                change_id=uuid.uuid4(),
                cause=cause,
                matrix=full_matrix or many,
                list_codes=list_codes,
                client_ids=[] if many else companies,
                sku_from=result.pop("sku_from"),
                sku_to=result.pop("sku_to"),
                rows=applied,
                changed_at=utcnow(),
            ),
        )
        record_event(
            session,
            versions.applied_event(
                version, list_codes=list_codes, client_ids=[] if many else companies
            ),
        )
        await session.execute(
            update(FeedJob)
            .where(FeedJob.id == run.job.id)
            .values(
                state=JobState.SUCCEEDED,
                stage="done",
                progress=1.0,
                rows_applied=applied,
                result=result,
                finished_at=utcnow(),
                **summary,
            )
        )


def diff_path(data_dir: Path, job_id: uuid.UUID) -> Path:
    """Where a dry run's or a staged feed's full diff is kept, as CSV."""
    return data_dir / "feeds" / PRICES_KIND / f"{job_id}.diff.csv"


PRICES_KIND = "prices"


def write_diff(diff: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    shown = diff.select(
        pl.col("_row").alias("row"),
        pl.when(pl.col("target") == "L")
        .then(pl.lit("list"))
        .otherwise(pl.lit("client"))
        .alias("kind"),
        pl.coalesce("list_code", "client").alias("target"),
        "sku",
        (pl.col("min_qty").cast(pl.Decimal(18, 3)) / 1000).alias("min_qty"),
        "currency",
        "old_price",
        "new_price",
        pl.when(pl.col("old_price").is_null() | pl.col("new_price").is_null())
        .then(None)
        .otherwise((pl.col("new_price") - pl.col("old_price")) * 100.0 / pl.col("old_price"))
        .round(2)
        .alias("change_percent"),
    )
    csvsafe.frame(shown).write_csv(path)


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


def _first_pass_batch(
    spec: FeedSpec,
    raw: pl.DataFrame,
    refs: References,
    index: CellIndex,
    first: FirstPass,
    sink: ipc.RecordBatchFileWriter,
) -> None:
    first.rows_total += raw.height
    checked = check_batch(spec, raw, refs)
    first.rejections.append(checked.rejections)
    cells = checked.cells
    if cells.height:
        duplicates = index.add(cells)
        if duplicates.height:
            first.rejections.append(duplicates)
            cells = cells.join(duplicates.select(ROW), on=ROW, how="anti")
        if first.anchors is None:
            first.anchors = factoring.choose_anchors(cells["sku_id"].to_numpy())
        first.anchor_cells.append(
            cells.filter(pl.col("sku_id").is_in(first.anchors)).select(
                "client_id", "sku_id", "price"
            )
        )
        first.cells += cells.height
        first.clients.update(cells["client_id"].unique().to_list())
        sink.write_table(cells.to_arrow().cast(CELL_SCHEMA))
    if checked.others.height:
        first.others.append(checked.others)


# ---------------------------------------------------------------- factoring


@dataclass
class Plan:
    cells_path: Path
    rejected_rows: pl.DataFrame  # _row of rejected cells: left out of every pass
    cells: int = 0
    clients: list[int] = field(default_factory=list)
    members: pl.DataFrame | None = None  # client_id, cluster, bp
    base: pl.DataFrame | None = None  # cluster, sku_id, base, currency
    gaps: pl.DataFrame | None = None  # client_id, sku_id
    fit: factoring.Fit | None = None
    exceptions: int = 0

    def report(self) -> dict[str, Any]:
        if self.members is None or not self.cells:
            return {"cells": self.cells, "contract_rows": self.exceptions}
        lists = self.base["cluster"].n_unique() if self.base is not None else 0
        stored = (
            (self.base.height if self.base is not None else 0)
            + self.exceptions
            + (self.gaps.height if self.gaps is not None else 0)
            + self.members.height
        )
        return {
            "cells": self.cells,
            "derived_lists": lists,
            "clients_on_derived_lists": self.members.height,
            "list_entries": self.base.height if self.base is not None else 0,
            "contract_rows": self.exceptions,
            "gaps": self.gaps.height if self.gaps is not None else 0,
            "stored_rows": stored,
            "compression": round(self.cells / stored, 1) if stored else None,
        }


def _cell_batches(plan: Plan) -> Iterator[pl.DataFrame]:
    # Plain reads, not a memory map: mapped pages of a multi-GB file would count as our RSS.
    with pa.OSFile(str(plan.cells_path)) as source:
        reader = ipc.open_file(source)
        for i in range(reader.num_record_batches):
            frame = pl.from_arrow(reader.get_batch(i))
            assert isinstance(frame, pl.DataFrame)
            if plan.rejected_rows.height:
                frame = frame.join(plan.rejected_rows, on=ROW, how="anti")
            yield frame


async def _plan(
    run: Job, first: FirstPass, cells_path: Path, full: bool, rejections: pl.DataFrame
) -> Plan:
    plan = Plan(
        cells_path,
        rejections.select(ROW).unique(),
        cells=first.cells,
        clients=sorted(first.clients),
    )
    if not (full and first.cells and first.anchors is not None):
        plan.exceptions = first.cells
        return plan
    await run.set(stage="factoring the matrix", progress=0.55, heartbeat_at=utcnow())
    await asyncio.to_thread(_factor, plan, first)
    return plan


def _factor(plan: Plan, first: FirstPass) -> None:
    assert first.anchors is not None
    anchors = factoring.Anchors.of(pl.concat(first.anchor_cells), first.anchors)
    membership = factoring.clusters(anchors)
    if membership.height == 0:
        plan.exceptions = first.cells
        return
    core = factoring.core_members(anchors, membership)
    core_ids = core["client_id"]
    core_cells = pl.concat(
        [
            b.filter(pl.col("client_id").is_in(core_ids.implode())).select(
                "client_id", "sku_id", "price", "currency"
            )
            for b in _cell_batches(plan)
        ]
    )
    base = factoring.base_vectors(core_cells, core)
    members = factoring.member_percents(anchors, first.anchors, membership, base)
    # Fit every cell; count each member's cells on its list's SKUs to find those it was not
    # given (a gap), which the list must not price for it.
    fit = factoring.Fit(members, base)
    exceptions = 0
    covered: list[pl.DataFrame] = []
    for batch in _cell_batches(plan):
        derived, on_list = fit.check(batch)
        exceptions += int((~derived).sum())
        covered.append(batch.filter(pl.Series(on_list)).group_by("client_id").len())
    counts = pl.concat(covered).group_by("client_id").agg(pl.col("len").sum())
    sizes = pl.DataFrame(
        list(fit.sizes.items()), schema={"cluster": pl.Int64, "size": pl.UInt32}, orient="row"
    )
    short = (
        members.join(sizes, on="cluster")
        .join(counts, on="client_id", how="left")
        .filter(pl.col("len").fill_null(0) < pl.col("size"))
    )
    gaps = pl.DataFrame(schema={"client_id": pl.Int64, "sku_id": pl.Int64})
    if short.height:
        given = pl.concat(
            [
                b.filter(pl.col("client_id").is_in(short["client_id"].implode())).select(
                    "client_id", "sku_id"
                )
                for b in _cell_batches(plan)
            ]
        )
        gaps = (
            short.select("client_id", "cluster")
            .join(base.select("cluster", "sku_id"), on="cluster")
            .join(given, on=["client_id", "sku_id"], how="anti")
            .select("client_id", "sku_id")
        )
    plan.members, plan.base, plan.gaps, plan.exceptions = members, base, gaps, exceptions
    plan.fit = fit


# ---------------------------------------------------------------- applying


async def _copy(
    session: AsyncSession, table: str, columns: list[str], chunks: AsyncIterator[bytes]
) -> None:
    raw = await (await session.connection()).get_raw_connection()
    await raw.driver_connection.copy_to_table(  # type: ignore[union-attr]
        table, source=chunks, columns=columns, format="binary"
    )


async def _binary(frames: Iterator[pl.DataFrame], fields: list[Field]) -> AsyncIterator[bytes]:
    yield SIGNATURE
    for frame in frames:
        if frame.height:
            yield await asyncio.to_thread(encode, frame, fields)
    yield TRAILER


def _contract_frames(plan: Plan) -> Iterator[pl.DataFrame]:
    """The client cells that stay contract rows: all of them, or the factoring's exceptions."""
    for batch in _cell_batches(plan):
        rows = batch
        if plan.fit is not None:
            derived, _ = plan.fit.check(batch)
            rows = batch.filter(pl.Series(~derived))
        for start in range(0, rows.height, COPY_ROWS):
            yield rows.slice(start, COPY_ROWS).select(
                "client_id",
                "sku_id",
                "price",
                pl.lit(DATE_NEG_INF, pl.Int64).alias("valid_from"),
                pl.lit(DATE_POS_INF, pl.Int64).alias("valid_to"),
                pl.lit(ONE, pl.Int64).alias("min_qty"),
                "currency",
            )


async def _apply(
    session: AsyncSession, run: Job, plan: Plan, others: pl.DataFrame | None, full: bool
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    other_rows = others if others is not None else pl.DataFrame()
    list_rows = (
        other_rows.filter(pl.col("list_id").is_not_null()) if other_rows.height else other_rows
    )
    cell_rows = (
        other_rows.filter(pl.col("client_id").is_not_null()) if other_rows.height else other_rows
    )
    list_ids = sorted(set(list_rows["list_id"].to_list())) if list_rows.height else []
    client_ids = sorted(
        set(plan.clients) | (set(cell_rows["client_id"].to_list()) if cell_rows.height else set())
    )

    if list_rows.height:
        result.update(await _apply_list_rows(session, list_rows, list_ids, full))
    if plan.cells or cell_rows.height:
        result.update(await _apply_client_rows(session, run, plan, cell_rows, client_ids, full))
    codes = (
        await session.scalars(
            text("SELECT code FROM price_lists WHERE id = ANY(:ids)"), {"ids": list_ids}
        )
        if list_ids
        else []
    )
    companies = (
        await session.scalars(
            text("SELECT company_id FROM clients WHERE id = ANY(:ids)"), {"ids": client_ids}
        )
        if client_ids
        else []
    )
    sku_range = (
        await session.execute(
            text("SELECT min(sku), max(sku) FROM skus WHERE id = ANY(:ids)"),
            {"ids": sorted(set(other_rows["sku_id"].to_list())) if other_rows.height else []},
        )
    ).one()
    result.update(
        list_codes=list(codes),
        company_ids=list(companies),
        sku_from=sku_range[0] if not plan.cells else None,
        sku_to=sku_range[1] if not plan.cells else None,
    )
    return result


STAGE_COLUMNS = "_row bigint, target int, sku_id int, price bigint, valid_from date, valid_to date, min_qty numeric(18,3), currency char(3), is_delete boolean"
STAGE_FIELDS = [
    Field(ROW, "int8"),
    Field("target", "int4"),
    Field("sku_id", "int4"),
    Field("price", "int8"),
    Field("valid_from", "date"),
    Field("valid_to", "date"),
    Field("min_qty", "numeric_milli"),
    Field("currency", "char3"),
    Field("delete", "bool"),
]


async def _stage(session: AsyncSession, name: str, frames: Iterator[pl.DataFrame]) -> None:
    await session.execute(text(f"CREATE TEMP TABLE {name} ({STAGE_COLUMNS}) ON COMMIT DROP"))
    columns = [c.split()[0] for c in STAGE_COLUMNS.split(", ")]
    await _copy(session, name, columns, _binary(frames, STAGE_FIELDS))
    await session.execute(text(f"ANALYZE {name}"))
    # Staged rows probe the stored table's (client_id, sku_id) or primary-key index one by one:
    # 1 M probes take about 2 s, where the hash or merge join the planner likes would read all
    # 100 M stored rows (70 s). No index on the staging table, so it stays the outer side.
    await session.execute(text("SET LOCAL enable_hashjoin = off"))
    await session.execute(text("SET LOCAL enable_mergejoin = off"))


def _overlap_sql(table: str, key: str, stage: str, *, dated_side: str) -> str:
    """Rows of the feed whose validity overlaps a stored row (that the feed does not replace).

    Two rows of one SKU and tier overlap only if at least one of them is dated, so the check
    runs twice: the feed's dated rows against every stored row, then the feed's open-ended
    rows against the stored dated rows (a partial index): an open-ended delta never scans
    the whole matrix.
    """
    dated = f"(isfinite({dated_side}.valid_from) OR isfinite({dated_side}.valid_to))"
    return f"""
        SELECT DISTINCT ON (s._row) s._row, t.valid_from
        FROM {stage} s JOIN {table} t
          ON t.{key} = s.target AND t.sku_id = s.sku_id AND t.min_qty = s.min_qty
         AND t.valid_from <> s.valid_from
         AND daterange(t.valid_from, t.valid_to) && daterange(s.valid_from, s.valid_to)
        WHERE NOT s.is_delete AND {dated} AND NOT EXISTS (
            SELECT 1 FROM {stage} d WHERE d.target = t.{key} AND d.sku_id = t.sku_id
              AND d.min_qty = t.min_qty AND d.valid_from = t.valid_from)
        ORDER BY s._row
    """


def _matrix_overlap_sql(stage: str) -> str:
    """The feed's dated rows over a client's open price that its derived matrix list holds:
    the same overlap as over that price stored as a contract row."""
    return f"""
        SELECT DISTINCT ON (s._row) s._row, x.valid_from
        FROM {stage} s CROSS JOIN LATERAL ({versions.matrix_cell("s")}) x
        WHERE NOT s.is_delete AND (isfinite(s.valid_from) OR isfinite(s.valid_to))
          AND x.valid_from <> s.valid_from
          AND daterange(x.valid_from, x.valid_to) && daterange(s.valid_from, s.valid_to)
          AND NOT EXISTS (
              SELECT 1 FROM {stage} d WHERE d.target = s.target AND d.sku_id = s.sku_id
                AND d.min_qty = s.min_qty AND d.valid_from = x.valid_from)
        ORDER BY s._row
    """


async def _refuse_overlaps(
    session: AsyncSession, table: str, key: str, stage: str, *, matrix: bool = False
) -> None:
    found = (await session.execute(text(_overlap_sql(table, key, stage, dated_side="s")))).all()
    if matrix:
        found += (await session.execute(text(_matrix_overlap_sql(stage)))).all()
    await session.execute(text("SET LOCAL enable_hashjoin = on"))  # few stored dated rows
    found += (await session.execute(text(_overlap_sql(table, key, stage, dated_side="t")))).all()
    await session.execute(text("SET LOCAL enable_hashjoin = off"))
    found = sorted(set(found))
    if found:
        raise Rejected(
            pl.DataFrame(
                [
                    (
                        row,
                        "valid_from",
                        "overlaps a stored price"
                        + (f" valid from {start}" if start.year > 1 else " valid since always"),
                        None,
                    )
                    for row, start in found
                ],
                schema=REJECTION_SCHEMA,
                orient="row",
            )
        )


async def _apply_list_rows(
    session: AsyncSession, rows: pl.DataFrame, list_ids: list[int], full: bool
) -> dict[str, Any]:
    await _stage(session, "list_staging", iter([_staging_frame(rows, "list_id")]))
    await versions.diff_list_rows(session, full=full, list_ids=list_ids)
    if full:
        deleted = await session.execute(
            text("DELETE FROM price_list_entries WHERE list_id = ANY(:ids)"), {"ids": list_ids}
        )
    else:
        await _refuse_overlaps(session, "price_list_entries", "list_id", "list_staging")
        deleted = await session.execute(
            text(
                """
                DELETE FROM price_list_entries e USING list_staging s
                WHERE s.is_delete AND e.list_id = s.target AND e.sku_id = s.sku_id
                  AND e.min_qty = s.min_qty AND e.valid_from = s.valid_from
                """
            )
        )
    written = await session.execute(
        text(
            """
            INSERT INTO price_list_entries (list_id, sku_id, min_qty, valid_from, valid_to, price_minor)
            SELECT target, sku_id, min_qty, valid_from,
                   CASE WHEN isfinite(valid_to) THEN valid_to END, price
            FROM list_staging WHERE NOT is_delete
            ON CONFLICT (list_id, sku_id, min_qty, valid_from) DO UPDATE
               SET price_minor = excluded.price_minor, valid_to = excluded.valid_to
             WHERE (price_list_entries.price_minor, price_list_entries.valid_to)
                   IS DISTINCT FROM (excluded.price_minor, excluded.valid_to)
            """
        )
    )
    await session.execute(
        text("UPDATE price_lists SET updated_at = :now WHERE id = ANY(:ids)"),
        {"ids": list_ids, "now": utcnow()},
    )
    return {"list_entries_written": written.rowcount, "list_entries_deleted": deleted.rowcount}


def _staged_cells(plan: Plan, others: pl.DataFrame) -> Iterator[pl.DataFrame]:
    """Every client row of a delta feed in the staging layout."""
    for batch in _cell_batches(plan):
        yield batch.select(
            ROW,
            pl.col("client_id").alias("target"),
            "sku_id",
            "price",
            pl.lit(DATE_NEG_INF, pl.Int64).alias("valid_from"),
            pl.lit(DATE_POS_INF, pl.Int64).alias("valid_to"),
            pl.lit(ONE, pl.Int64).alias("min_qty"),
            "currency",
            pl.lit(False).alias("delete"),
        )
    if others.height:
        yield _staging_frame(others, "client_id")


def _staging_frame(rows: pl.DataFrame, target: str) -> pl.DataFrame:
    return rows.select(
        ROW,
        pl.col(target).alias("target"),
        "sku_id",
        pl.col("price").fill_null(0),
        "valid_from",
        "valid_to",
        "min_qty",
        pl.col("currency").fill_null("XXX"),
        "delete",
    )


async def _apply_client_rows(
    session: AsyncSession,
    run: Job,
    plan: Plan,
    others: pl.DataFrame,
    client_ids: list[int],
    full: bool,
) -> dict[str, Any]:
    if full:
        await _replace_clients(session, run, plan, client_ids)
        if others.height:
            await _stage(session, "cell_staging", iter([_staging_frame(others, "client_id")]))
            await session.execute(text(INSERT_CONTRACT))
        return {"clients_replaced": len(client_ids)}
    await _stage(session, "cell_staging", _staged_cells(plan, others))
    await _refuse_overlaps(session, "contract_prices", "client_id", "cell_staging", matrix=True)
    await versions.diff_client_rows(session)
    # Set-based merge: rows that changed or were deleted go, rows that are new come; an
    # unchanged price is neither deleted nor rewritten.
    removed = await session.execute(
        text(
            """
            DELETE FROM contract_prices t USING cell_staging s
            WHERE t.client_id = s.target AND t.sku_id = s.sku_id
              AND t.min_qty = s.min_qty AND t.valid_from = s.valid_from
              AND (s.is_delete OR (t.price_minor, t.valid_to, t.currency)
                   IS DISTINCT FROM (s.price, s.valid_to, s.currency))
            """
        )
    )
    written = await session.execute(text(INSERT_CONTRACT))
    # A client's open price deleted, or given an end, where a derived list holds it: the
    # list must not answer for it again (as a deleted or ended contract row would not).
    gaps = await session.execute(
        text(
            """
            INSERT INTO matrix_gaps (client_id, sku_id)
            SELECT s.target, s.sku_id FROM cell_staging s
            JOIN client_matrix m ON m.client_id = s.target
            JOIN price_list_entries e ON e.list_id = m.list_id AND e.sku_id = s.sku_id
            WHERE (s.is_delete OR isfinite(s.valid_to)) AND s.min_qty = 1
              AND NOT isfinite(s.valid_from)
            ON CONFLICT DO NOTHING
            """
        )
    )
    return {
        "contract_rows_removed": removed.rowcount,
        "contract_rows_written": written.rowcount,
        "gaps_added": gaps.rowcount,
    }


INSERT_CONTRACT = """
    INSERT INTO contract_prices
        (client_id, sku_id, price_minor, valid_from, valid_to, min_qty, currency)
    SELECT s.target, s.sku_id, s.price, s.valid_from, s.valid_to, s.min_qty, s.currency
    FROM cell_staging s
    WHERE NOT s.is_delete AND NOT EXISTS (
        SELECT 1 FROM contract_prices t
        WHERE t.client_id = s.target AND t.sku_id = s.sku_id
          AND t.min_qty = s.min_qty AND t.valid_from = s.valid_from)
"""


async def _replace_clients(
    session: AsyncSession, run: Job, plan: Plan, client_ids: list[int]
) -> None:
    """A full client feed: these clients' contract rows, derived lists and gaps, all new."""
    total = await session.scalar(
        text("SELECT reltuples::bigint FROM pg_class WHERE relname = 'contract_prices'")
    )
    swap = plan.cells > 1_000_000 or (
        (total or 0) > 0 and len(client_ids) > 0 and plan.cells > (total or 0) // 2
    )
    if swap:
        # Rebuild instead of deleting tens of millions of rows: a new table, then a rename.
        await session.execute(
            text("CREATE TABLE contract_prices_next (LIKE contract_prices INCLUDING DEFAULTS)")
        )
        await session.execute(
            text(
                "INSERT INTO contract_prices_next SELECT * FROM contract_prices WHERE NOT (client_id = ANY(:ids))"
            ),
            {"ids": client_ids},
        )
        await _copy(
            session,
            "contract_prices_next",
            CONTRACT_COLUMNS,
            _binary(_contract_frames(plan), CONTRACT_FIELDS),
        )
        await run.set(stage="indexing", progress=0.9, heartbeat_at=utcnow())
        await session.execute(text("DROP TABLE contract_prices"))
        await session.execute(text("ALTER TABLE contract_prices_next RENAME TO contract_prices"))
        await session.execute(
            text(
                "CREATE INDEX ix_contract_prices_client_sku ON contract_prices (client_id, sku_id)"
            )
        )
        await session.execute(
            text(
                "CREATE INDEX ix_contract_prices_dated ON contract_prices (client_id, sku_id)"
                " WHERE isfinite(valid_from) OR isfinite(valid_to)"
            )
        )
        # A new table has no statistics until autovacuum comes; the next delta's plans need them.
        await session.execute(text("ANALYZE contract_prices"))
    else:
        await session.execute(
            text("DELETE FROM contract_prices WHERE client_id = ANY(:ids)"), {"ids": client_ids}
        )
        await _copy(
            session,
            "contract_prices",
            CONTRACT_COLUMNS,
            _binary(_contract_frames(plan), CONTRACT_FIELDS),
        )
    await session.execute(
        text("DELETE FROM matrix_gaps WHERE client_id = ANY(:ids)"), {"ids": client_ids}
    )
    await session.execute(
        text("DELETE FROM client_matrix WHERE client_id = ANY(:ids)"), {"ids": client_ids}
    )
    if plan.members is not None and plan.base is not None and plan.members.height:
        await _store_derived_lists(session, run, plan)
    await session.execute(
        text(
            """
            DELETE FROM price_lists l WHERE l.is_matrix
              AND NOT EXISTS (SELECT 1 FROM client_matrix m WHERE m.list_id = l.id)
            """
        )
    )


async def _store_derived_lists(session: AsyncSession, run: Job, plan: Plan) -> None:
    assert plan.members is not None and plan.base is not None and plan.gaps is not None
    clusters = plan.base.group_by("cluster").agg(pl.col("currency").first()).sort("cluster")
    tag = str(run.job.id)[:8]
    ids = await session.execute(
        text(
            """
            INSERT INTO price_lists (code, name, currency, priority, is_base, is_matrix, markup_bp, updated_at)
            SELECT 'MATRIX-' || :tag || '-' || n, 'Derived from matrix feed ' || :job, currency, 0,
                   false, true, 0, CAST(:now AS timestamptz)
            FROM unnest(CAST(:currencies AS text[])) WITH ORDINALITY AS u(currency, n)
            RETURNING id, code
            """
        ),
        {
            "now": utcnow(),
            "tag": tag,
            "job": str(run.job.id),
            "currencies": clusters["currency"].to_list(),
        },
    )
    by_code = {code: list_id for list_id, code in ids}
    mapping = clusters.with_columns(
        pl.Series(
            "list_id",
            [by_code[f"MATRIX-{tag}-{n}"] for n in range(1, clusters.height + 1)],
            pl.Int64,
        )
    ).select("cluster", "list_id")
    entries = plan.base.join(mapping, on="cluster").select(
        "list_id",
        "sku_id",
        pl.lit(ONE, pl.Int64).alias("min_qty"),
        pl.lit(DATE_NEG_INF, pl.Int64).alias("valid_from"),
        pl.col("base").alias("price"),
    )
    await _copy(
        session,
        "price_list_entries",
        ["list_id", "sku_id", "min_qty", "valid_from", "price_minor"],
        _binary(
            (entries.slice(s, COPY_ROWS) for s in range(0, entries.height, COPY_ROWS)),
            [
                Field("list_id", "int4"),
                Field("sku_id", "int4"),
                Field("min_qty", "numeric_milli"),
                Field("valid_from", "date"),
                Field("price", "int8"),
            ],
        ),
    )
    members = plan.members.join(mapping, on="cluster").select("client_id", "list_id", "bp")
    await _copy(
        session,
        "client_matrix",
        ["client_id", "list_id", "markup_bp"],
        _binary(
            iter([members]),
            [Field("client_id", "int4"), Field("list_id", "int4"), Field("bp", "int4")],
        ),
    )
    if plan.gaps.height:
        await _copy(
            session,
            "matrix_gaps",
            ["client_id", "sku_id"],
            _binary(iter([plan.gaps]), [Field("client_id", "int4"), Field("sku_id", "int4")]),
        )
