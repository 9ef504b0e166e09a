"""Getting a feed's rows into PostgreSQL: binary COPY into staging tables, and the database's
check of validity overlapping stored prices."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import polars as pl
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.domain.feed_plan import Plan
from services.pricing.domain.feed_rows import ONE, Rejected
from services.pricing.store import versions
from services.pricing.store.feed_files import cell_batches
from shared.feeds.validation import (
    REJECTION_SCHEMA,
    ROW,
)
from shared.pgcopy import DATE_NEG_INF, DATE_POS_INF, SIGNATURE, TRAILER, Field, encode

COPY_ROWS = 500_000


# A price's fields in binary COPY, after whose price it is (a client, or a staging target).
PRICE_FIELDS = [
    Field("sku_id", "int4"),
    Field("price", "int8"),
    Field("valid_from", "date"),
    Field("valid_to", "date"),
    Field("min_qty", "numeric_milli"),
    Field("currency", "char3"),
]
CONTRACT_FIELDS = [Field("client_id", "int4"), *PRICE_FIELDS]


CONTRACT_COLUMNS = [
    "client_id",
    "sku_id",
    "price_minor",
    "valid_from",
    "valid_to",
    "min_qty",
    "currency",
]


async def copy_binary(
    session: AsyncSession, table: str, columns: list[str], chunks: AsyncIterator[bytes]
) -> None:
    raw = await (await session.connection()).get_raw_connection()
    await raw.driver_connection.copy_to_table(  # type: ignore[union-attr]
        table, source=chunks, columns=columns, format="binary"
    )


async def binary_rows(frames: Iterator[pl.DataFrame], fields: list[Field]) -> AsyncIterator[bytes]:
    yield SIGNATURE
    for frame in frames:
        if frame.height:
            yield await asyncio.to_thread(encode, frame, fields)
    yield TRAILER


# A matrix cell is one price for any quantity at any time: its price columns, in COPY order.
CELL_PRICE = (
    "sku_id",
    "price",
    pl.lit(DATE_NEG_INF, pl.Int64).alias("valid_from"),
    pl.lit(DATE_POS_INF, pl.Int64).alias("valid_to"),
    pl.lit(ONE, pl.Int64).alias("min_qty"),
    "currency",
)


def contract_frames(plan: Plan) -> Iterator[pl.DataFrame]:
    """The client cells that stay contract rows: all of them, or the factoring's exceptions."""
    for batch in cell_batches(plan):
        rows = batch
        if plan.fit is not None:
            derived, _ = plan.fit.check(batch)
            rows = batch.filter(pl.Series(~derived))
        for start in range(0, rows.height, COPY_ROWS):
            yield rows.slice(start, COPY_ROWS).select("client_id", *CELL_PRICE)


STAGE_COLUMNS = "_row bigint, target int, sku_id int, price bigint, valid_from date, valid_to date, min_qty numeric(18,3), currency char(3), is_delete boolean"


STAGE_FIELDS = [Field(ROW, "int8"), Field("target", "int4"), *PRICE_FIELDS, Field("delete", "bool")]


async def stage(session: AsyncSession, name: str, frames: Iterator[pl.DataFrame]) -> None:
    await session.execute(text(f"CREATE TEMP TABLE {name} ({STAGE_COLUMNS}) ON COMMIT DROP"))
    columns = [c.split()[0] for c in STAGE_COLUMNS.split(", ")]
    await copy_binary(session, name, columns, binary_rows(frames, STAGE_FIELDS))
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


async def refuse_overlaps(
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


def staged_cells(plan: Plan, others: pl.DataFrame) -> Iterator[pl.DataFrame]:
    """Every client row of a delta feed in the staging layout."""
    for batch in cell_batches(plan):
        yield batch.select(
            ROW, pl.col("client_id").alias("target"), *CELL_PRICE, pl.lit(False).alias("delete")
        )
    if others.height:
        yield staging_frame(others, "client_id")


def staging_frame(rows: pl.DataFrame, target: str) -> pl.DataFrame:
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
