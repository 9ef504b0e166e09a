"""Price versions: the diff a change makes, its guardrails, and the rows kept per version.

A feed stages its rows (`list_staging`, `cell_staging`); before it applies them, the diff of
stored rows it is about to add, change or remove goes into the transaction's `price_diff`
table by one set-based statement per kind. An applied change keeps that diff as its version's
rows (changes, never a copy of the matrix); rolling a version back writes its befores again.
"""

from __future__ import annotations

import uuid
from dataclasses import fields
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.domain.governance import CHANGE_SCHEMA, Limits
from services.pricing.store.governance_models import Guardrail, PriceVersion
from services.pricing.store.prices import NEVER_AFTER, NEVER_BEFORE, copy_frame, day_number
from shared.clock import utcnow
from shared.contracts.pricing import PriceVersionAppliedV1

DIFF_COLUMNS = """_row bigint, target char(1), target_id int, sku_id int, min_qty numeric(18,3),
    valid_from date, currency char(3), old_price bigint, old_valid_to date, new_price bigint,
    new_valid_to date"""


async def start_diff(session: AsyncSession) -> None:
    await session.execute(
        text(f"CREATE TEMP TABLE IF NOT EXISTS price_diff ({DIFF_COLUMNS}) ON COMMIT DROP")
    )


def _open_end(column: str) -> str:
    return f"CASE WHEN isfinite({column}) THEN {column} END"


async def diff_list_rows(session: AsyncSession, *, full: bool, list_ids: list[int]) -> None:
    """The list entries the staged rows add, change or remove (a full feed also removes every
    entry of its lists it does not name)."""
    await start_diff(session)
    await session.execute(
        text(
            f"""
            INSERT INTO price_diff
            SELECT s._row, 'L', s.target, s.sku_id, s.min_qty, s.valid_from, l.currency,
                   e.price_minor, e.valid_to,
                   CASE WHEN NOT s.is_delete THEN s.price END,
                   CASE WHEN NOT s.is_delete THEN {_open_end("s.valid_to")} END
            FROM list_staging s JOIN price_lists l ON l.id = s.target
            LEFT JOIN price_list_entries e
              ON e.list_id = s.target AND e.sku_id = s.sku_id
             AND e.min_qty = s.min_qty AND e.valid_from = s.valid_from
            WHERE CASE WHEN s.is_delete THEN e.list_id IS NOT NULL
                  ELSE e.list_id IS NULL OR (e.price_minor, e.valid_to)
                       IS DISTINCT FROM (s.price, {_open_end("s.valid_to")}) END
            """
        )
    )
    if full:
        await session.execute(
            text(
                """
                INSERT INTO price_diff
                SELECT NULL, 'L', e.list_id, e.sku_id, e.min_qty, e.valid_from, l.currency,
                       e.price_minor, e.valid_to, NULL, NULL
                FROM price_list_entries e JOIN price_lists l ON l.id = e.list_id
                WHERE e.list_id = ANY(:ids) AND NOT EXISTS (
                    SELECT 1 FROM list_staging s WHERE s.target = e.list_id
                      AND s.sku_id = e.sku_id AND s.min_qty = e.min_qty
                      AND s.valid_from = e.valid_from)
                """
            ),
            {"ids": list_ids},
        )


def matrix_cell(stage: str) -> str:
    """The price of the staged row's client, SKU and tier that its derived matrix list holds,
    as the resolver computes it (the list's price with the client's markup), unless a gap or a
    contract row of the same key stands for it: a stored row of the client like any other.
    One row or none, to join LATERAL to the staging table aliased `stage`."""
    return f"""
        SELECT (e.price_minor * (10000 + m.markup_bp) + 5000) / 10000 AS price_minor,
               e.valid_from, coalesce(e.valid_to, 'infinity') AS valid_to, l.currency
        FROM client_matrix m
        JOIN price_lists l ON l.id = m.list_id
        JOIN price_list_entries e ON e.list_id = m.list_id AND e.sku_id = {stage}.sku_id
         AND e.min_qty = {stage}.min_qty
        WHERE m.client_id = {stage}.target
          AND NOT EXISTS (
              SELECT 1 FROM matrix_gaps g WHERE g.client_id = m.client_id AND g.sku_id = e.sku_id)
          AND NOT EXISTS (
              SELECT 1 FROM contract_prices c WHERE c.client_id = m.client_id
                 AND c.sku_id = e.sku_id AND c.min_qty = e.min_qty AND c.valid_from = e.valid_from)
    """


async def diff_client_rows(session: AsyncSession) -> None:
    """The clients' own prices a delta's staged rows add, change or remove: contract rows,
    and cells a derived matrix list holds (the same prices, stored another way)."""
    await start_diff(session)
    await session.execute(
        text(
            f"""
            INSERT INTO price_diff
            SELECT s._row, 'C', s.target, s.sku_id, s.min_qty, s.valid_from,
                   CASE WHEN s.is_delete THEN t.currency ELSE s.currency END,
                   t.price_minor, {_open_end("t.valid_to")},
                   CASE WHEN NOT s.is_delete THEN s.price END,
                   CASE WHEN NOT s.is_delete THEN {_open_end("s.valid_to")} END
            FROM cell_staging s
            LEFT JOIN LATERAL (
                SELECT c.price_minor, c.valid_to, c.currency FROM contract_prices c
                WHERE c.client_id = s.target AND c.sku_id = s.sku_id
                  AND c.min_qty = s.min_qty AND c.valid_from = s.valid_from
                UNION ALL
                SELECT x.price_minor, x.valid_to, x.currency FROM ({matrix_cell("s")}) x
                WHERE x.valid_from = s.valid_from
            ) t ON true
            WHERE CASE WHEN s.is_delete THEN t.price_minor IS NOT NULL
                  ELSE t.price_minor IS NULL OR (t.price_minor, t.valid_to, t.currency)
                       IS DISTINCT FROM (s.price, s.valid_to, s.currency) END
            """
        )
    )


DIFF_SCHEMA = {
    "_row": pl.Int64,
    "target": pl.Utf8,
    "target_id": pl.Int64,
    "list_code": pl.Utf8,
    "client": pl.Utf8,
    "sku": pl.Utf8,
    "sku_id": pl.Int64,
    "min_qty": pl.Int64,
    "valid_from": pl.Int64,
    "currency": pl.Utf8,
    "old_price": pl.Int64,
    "new_price": pl.Int64,
    "cost_minor": pl.Int64,
    "floor_minor": pl.Int64,
}


async def read_diff(session: AsyncSession, table: str = "price_diff") -> pl.DataFrame:
    """The diff with the names a reviewer reads and what guardrails measure against."""
    exists = await session.scalar(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table})
    if not exists:
        return pl.DataFrame(schema=DIFF_SCHEMA)
    return await copy_frame(
        session,
        f"""
        SELECT d._row, d.target, d.target_id, l.code, coalesce(c.external_id, c.company_id::text),
            s.sku, d.sku_id, (d.min_qty * 1000)::bigint,
            {day_number("d.valid_from", NEVER_BEFORE)}, d.currency, d.old_price, d.new_price,
            CASE WHEN s.cost_currency = d.currency THEN s.cost_minor END, f.price_minor
        FROM {table} d JOIN skus s ON s.id = d.sku_id
        LEFT JOIN price_lists l ON d.target = 'L' AND l.id = d.target_id
        LEFT JOIN clients c ON d.target = 'C' AND c.id = d.target_id
        LEFT JOIN floor_prices f ON f.sku_id = d.sku_id AND f.currency = d.currency
        ORDER BY d._row NULLS LAST, d.target, d.target_id, d.sku_id, d.min_qty, d.valid_from
        """,
        DIFF_SCHEMA,
    )


async def limits(session: AsyncSession) -> list[Limits]:
    rows = await session.scalars(select(Guardrail))
    kept = [f.name for f in fields(Limits) if f.name != "code"]
    return [Limits(code=r.list_code, **{name: getattr(r, name) for name in kept}) for r in rows]


async def record_version(
    session: AsyncSession,
    *,
    cause: str,
    created_by: str,
    diff: dict[str, Any],
    job_id: uuid.UUID | None = None,
    approved_by: str | None = None,
    override: dict[str, Any] | None = None,
    rollback_of: int | None = None,
    restorable: bool = True,
    table: str | None = "price_diff",
    list_changes: list[dict[str, Any]] | None = None,
    staged: bool = False,
) -> PriceVersion:
    """An applied (or staged) version, with the rows of `table` (the transaction's diff) as
    its rows, or the lists' settings it changes (`list_changes`)."""
    now = utcnow()
    version = PriceVersion(
        state="staged" if staged else "applied",
        cause=cause,
        job_id=job_id,
        created_by=created_by,
        approved_by=approved_by,
        override_by=(override or {}).get("by"),
        override_reason=(override or {}).get("reason"),
        rollback_of=rollback_of,
        restorable=restorable,
        diff=diff,
        list_changes=list_changes or [],
        created_at=now,
        applied_at=None if staged else now,
    )
    session.add(version)
    await session.flush()
    if table is not None and await session.scalar(
        text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}
    ):
        written = await session.execute(
            text(
                f"""
                INSERT INTO price_version_rows (version_id, target, target_id, sku_id, min_qty,
                    valid_from, currency, old_price, old_valid_to, new_price, new_valid_to)
                SELECT :v, target, target_id, sku_id, min_qty, valid_from, currency,
                       old_price, old_valid_to, new_price, new_valid_to
                FROM {table}
                """
            ),
            {"v": version.id},
        )
        version.rows = int(written.rowcount or 0)  # type: ignore[attr-defined]
    return version


async def get_version(session: AsyncSession, version_id: int, *, lock: bool = False) -> Any:
    stmt = select(PriceVersion).where(PriceVersion.id == version_id)
    if lock:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def drifted_rows(session: AsyncSession, version_id: int) -> list[tuple[str, str, int]]:
    """Rows of the version whose stored value is no longer what the version wrote: a later
    change touched them, so undoing this one would undo that one too."""
    rows = await session.execute(
        text(
            f"""
            SELECT s.sku, r.target || r.target_id, r.min_qty FROM price_version_rows r
            JOIN skus s ON s.id = r.sku_id
            LEFT JOIN price_list_entries e ON r.target = 'L' AND e.list_id = r.target_id
              AND e.sku_id = r.sku_id AND e.min_qty = r.min_qty AND e.valid_from = r.valid_from
            LEFT JOIN contract_prices t ON r.target = 'C' AND t.client_id = r.target_id
              AND t.sku_id = r.sku_id AND t.min_qty = r.min_qty AND t.valid_from = r.valid_from
            WHERE r.version_id = :v AND (
                coalesce(e.price_minor, t.price_minor),
                coalesce(e.valid_to, {_open_end("t.valid_to")}))
                IS DISTINCT FROM (r.new_price, r.new_valid_to)
            ORDER BY 1, 2, 3 LIMIT 50
            """
        ),
        {"v": version_id},
    )
    return [(sku, target, qty) for sku, target, qty in rows.all()]


async def undo_rows(session: AsyncSession, version_id: int) -> None:
    """Write the version's befores back; its inverse becomes the transaction's diff."""
    await session.execute(text(f"CREATE TEMP TABLE rollback_diff ({DIFF_COLUMNS}) ON COMMIT DROP"))
    await session.execute(
        text(
            """
            INSERT INTO rollback_diff
            SELECT NULL, target, target_id, sku_id, min_qty, valid_from, currency,
                   new_price, new_valid_to, old_price, old_valid_to
            FROM price_version_rows WHERE version_id = :v
            """
        ),
        {"v": version_id},
    )
    for table, key, open_to in (
        ("price_list_entries", "list_id", "d.new_valid_to"),
        ("contract_prices", "client_id", "coalesce(d.new_valid_to, 'infinity')"),
    ):
        target = "L" if key == "list_id" else "C"
        await session.execute(
            text(
                f"""
                DELETE FROM {table} x USING rollback_diff d
                WHERE d.target = '{target}' AND x.{key} = d.target_id AND x.sku_id = d.sku_id
                  AND x.min_qty = d.min_qty AND x.valid_from = d.valid_from
                """
            )
        )
        columns = (
            "list_id, sku_id, min_qty, valid_from, valid_to, price_minor"
            if target == "L"
            else "client_id, sku_id, min_qty, valid_from, valid_to, price_minor, currency"
        )
        values = "d.target_id, d.sku_id, d.min_qty, d.valid_from, " + open_to + ", d.new_price"
        if target == "C":
            values += ", d.currency"
        await session.execute(
            text(
                f"""
                INSERT INTO {table} ({columns})
                SELECT {values} FROM rollback_diff d
                WHERE d.target = '{target}' AND d.new_price IS NOT NULL
                """
            )
        )


async def touched(session: AsyncSession, table: str) -> tuple[list[str], list[uuid.UUID]]:
    """The list codes and companies a diff touches: what price.changed names."""
    codes = await session.scalars(
        text(
            f"SELECT DISTINCT l.code FROM {table} d JOIN price_lists l ON l.id = d.target_id"
            " WHERE d.target = 'L' ORDER BY 1"
        )
    )
    companies = await session.scalars(
        text(
            f"SELECT DISTINCT c.company_id FROM {table} d JOIN clients c ON c.id = d.target_id"
            " WHERE d.target = 'C' ORDER BY 1"
        )
    )
    return list(codes), list(companies)


async def changes_since(
    session: AsyncSession, moment: datetime, sku_ids: list[int], targets: list[tuple[str, int]]
) -> pl.DataFrame:
    """Version rows of these SKUs and targets applied after `moment`, newest first: what
    undoing them gives the stored rows as they stood then."""
    if not targets or not sku_ids:
        return pl.DataFrame(schema=CHANGE_SCHEMA)
    kinds = [t for t, _ in targets]
    ids = [i for _, i in targets]
    return await copy_frame(
        session,
        f"""
        SELECT r.target, r.target_id, r.sku_id, (r.min_qty * 1000)::bigint,
            {day_number("r.valid_from", NEVER_BEFORE)}, r.currency,
            r.old_price, {day_number("r.old_valid_to", NEVER_AFTER)},
            r.new_price, {day_number("r.new_valid_to", NEVER_AFTER)}
        FROM price_version_rows r JOIN price_versions v ON v.id = r.version_id
        WHERE v.applied_at > $1 AND v.state IN ('applied', 'rolled_back')
          AND r.sku_id = ANY($2::int[])
          AND (r.target, r.target_id) IN (
              SELECT * FROM unnest($3::text[], $4::int[]))
        ORDER BY v.applied_at DESC, v.id DESC
        """,
        CHANGE_SCHEMA,
        moment,
        sku_ids,
        kinds,
        ids,
    )


def applied_event(
    version: PriceVersion, *, list_codes: list[str], client_ids: list[uuid.UUID]
) -> PriceVersionAppliedV1:
    diff = version.diff or {}
    return PriceVersionAppliedV1(
        version=version.id,
        cause=version.cause,
        rollback_of=version.rollback_of,
        rows_added=diff.get("rows_added", 0),
        rows_changed=diff.get("rows_changed", 0),
        rows_removed=diff.get("rows_removed", 0),
        list_codes=list_codes,
        client_ids=client_ids,
        created_by=version.created_by,
        approved_by=version.approved_by,
        override_by=version.override_by,
        override_reason=version.override_reason,
        applied_at=version.applied_at or utcnow(),
    )
