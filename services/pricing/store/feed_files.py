"""The price feed's files: the upload read in batches of text, the checked cells kept as an
Arrow file beside it between passes, and a held feed's diff written as CSV."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.ipc as ipc
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from services.pricing.domain.feed_plan import Plan
from shared import csvsafe
from shared.feeds.models import FeedFormat
from shared.feeds.validation import (
    ROW,
    UnreadableFeed,
)

BATCH_ROWS = 500_000


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


def cell_batches(plan: Plan) -> Iterator[pl.DataFrame]:
    # Plain reads, not a memory map: mapped pages of a multi-GB file would count as our RSS.
    with pa.OSFile(str(plan.cells_path)) as source:
        reader = ipc.open_file(source)
        for i in range(reader.num_record_batches):
            frame = pl.from_arrow(reader.get_batch(i))
            assert isinstance(frame, pl.DataFrame)
            if plan.rejected_rows.height:
                frame = frame.join(plan.rejected_rows, on=ROW, how="anti")
            yield frame


PRICES_KIND = "prices"


def diff_path(data_dir: Path, job_id: uuid.UUID) -> Path:
    """Where a dry run's or a staged feed's full diff is kept, as CSV."""
    return data_dir / "feeds" / PRICES_KIND / f"{job_id}.diff.csv"


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
