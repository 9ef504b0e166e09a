"""The price feed's passes over the file: the first checks and maps each batch and keeps the
good client cells; a full client feed is then factored (domain.factoring) over them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import polars as pl
import pyarrow.ipc as ipc

from services.pricing.domain import factoring
from services.pricing.domain.feed_plan import CELL_SCHEMA, FirstPass, Plan
from services.pricing.domain.feed_rows import CellIndex, References, check_batch
from services.pricing.store.feed_files import cell_batches
from services.pricing.store.feed_jobs import Job
from shared.clock import utcnow
from shared.feeds.spec import FeedSpec
from shared.feeds.validation import (
    ROW,
)


def first_pass_batch(
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


async def plan_cells(
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
    await asyncio.to_thread(factor, plan, first)
    return plan


def factor(plan: Plan, first: FirstPass) -> None:
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
            for b in cell_batches(plan)
        ]
    )
    base = factoring.base_vectors(core_cells, core)
    members = factoring.member_percents(anchors, first.anchors, membership, base)
    # Fit every cell; count each member's cells on its list's SKUs to find those it was not
    # given (a gap), which the list must not price for it.
    fit = factoring.Fit(members, base)
    exceptions = 0
    covered: list[pl.DataFrame] = []
    for batch in cell_batches(plan):
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
                for b in cell_batches(plan)
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
