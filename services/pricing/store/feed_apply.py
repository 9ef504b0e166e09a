"""Applying a checked price feed in its transaction: list rows, client rows (merged for a
delta, replaced for a full feed), and a factored matrix's derived lists and gaps."""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.domain.feed_plan import Plan
from services.pricing.domain.feed_rows import ONE
from services.pricing.store import versions
from services.pricing.store.feed_jobs import Job
from services.pricing.store.feed_staging import (
    CONTRACT_COLUMNS,
    CONTRACT_FIELDS,
    COPY_ROWS,
    binary_rows,
    contract_frames,
    copy_binary,
    refuse_overlaps,
    stage,
    staged_cells,
    staging_frame,
)
from shared.clock import utcnow
from shared.pgcopy import DATE_NEG_INF, Field


async def apply_rows(
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


async def _apply_list_rows(
    session: AsyncSession, rows: pl.DataFrame, list_ids: list[int], full: bool
) -> dict[str, Any]:
    await stage(session, "list_staging", iter([staging_frame(rows, "list_id")]))
    await versions.diff_list_rows(session, full=full, list_ids=list_ids)
    if full:
        deleted = await session.execute(
            text("DELETE FROM price_list_entries WHERE list_id = ANY(:ids)"), {"ids": list_ids}
        )
    else:
        await refuse_overlaps(session, "price_list_entries", "list_id", "list_staging")
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
            await stage(session, "cell_staging", iter([staging_frame(others, "client_id")]))
            await session.execute(text(INSERT_CONTRACT))
        return {"clients_replaced": len(client_ids)}
    await stage(session, "cell_staging", staged_cells(plan, others))
    await refuse_overlaps(session, "contract_prices", "client_id", "cell_staging", matrix=True)
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
        await copy_binary(
            session,
            "contract_prices_next",
            CONTRACT_COLUMNS,
            binary_rows(contract_frames(plan), CONTRACT_FIELDS),
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
        await copy_binary(
            session,
            "contract_prices",
            CONTRACT_COLUMNS,
            binary_rows(contract_frames(plan), CONTRACT_FIELDS),
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
    await copy_binary(
        session,
        "price_list_entries",
        ["list_id", "sku_id", "min_qty", "valid_from", "price_minor"],
        binary_rows(
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
    await copy_binary(
        session,
        "client_matrix",
        ["client_id", "list_id", "markup_bp"],
        binary_rows(
            iter([members]),
            [Field("client_id", "int4"), Field("list_id", "int4"), Field("bp", "int4")],
        ),
    )
    if plan.gaps.height:
        await copy_binary(
            session,
            "matrix_gaps",
            ["client_id", "sku_id"],
            binary_rows(iter([plan.gaps]), [Field("client_id", "int4"), Field("sku_id", "int4")]),
        )
