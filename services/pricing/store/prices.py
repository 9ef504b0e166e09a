"""Every query the price engine reads with: the shared book, one client, the cart's entries.

Rows come back as Arrow (via COPY ... TO STDOUT in CSV, read by polars) rather than as one
Python object per row: the book is millions of entries and a client can have thousands of
contract prices.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Days since 1970-01-01; an open end is the extreme int32.
NEVER_BEFORE = -(2**31)
NEVER_AFTER = 2**31 - 1


def day_number(column: str, open_value: int) -> str:
    return (
        f"CASE WHEN {column} IS NULL OR NOT isfinite({column}) THEN {open_value} "
        f"ELSE {column} - DATE '1970-01-01' END"
    )


def to_day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days


# Entries as stored: lists with a parent have none (the book derives them from the parent).
ENTRIES = f"""
SELECT list_id, sku_id, (min_qty * 1000)::bigint AS min_qty, price_minor AS price,
    {day_number("valid_from", NEVER_BEFORE)} AS valid_from,
    {day_number("valid_to", NEVER_AFTER)} AS valid_to
FROM price_list_entries
"""

ENTRY_SCHEMA = {
    "list_id": pl.Int64,
    "sku_id": pl.Int64,
    "min_qty": pl.Int64,
    "price": pl.Int64,
    "valid_from": pl.Int64,
    "valid_to": pl.Int64,
}


async def copy_frame(
    session: AsyncSession, query: str, schema: dict[str, Any], *args: Any
) -> pl.DataFrame:
    """Run `query` as COPY ... TO STDOUT and read it into a typed frame, no row objects."""
    raw = await (await session.connection()).get_raw_connection()
    buffer = io.BytesIO()
    await raw.driver_connection.copy_from_query(  # type: ignore[union-attr]
        query, *args, output=buffer, format="csv"
    )
    if buffer.tell() == 0:
        return pl.DataFrame(schema=schema)
    buffer.seek(0)
    return pl.read_csv(buffer, has_header=False, new_columns=list(schema), schema=schema)


async def all_entries(session: AsyncSession) -> pl.DataFrame:
    return await copy_frame(session, ENTRIES, ENTRY_SCHEMA)


async def entries_for(
    session: AsyncSession, list_ids: list[int], sku_ids: list[int]
) -> pl.DataFrame:
    """Only the entries a cart needs: the cold path while the full book loads."""
    query = f"{ENTRIES} WHERE list_id = ANY($1::int[]) AND sku_id = ANY($2::int[])"
    return await copy_frame(session, query, ENTRY_SCHEMA, list_ids, sku_ids)


async def entries_of_lists(session: AsyncSession, list_ids: list[int]) -> pl.DataFrame:
    """Every entry of these lists: one list's prices while the full book loads."""
    query = f"{ENTRIES} WHERE list_id = ANY($1::int[])"
    return await copy_frame(session, query, ENTRY_SCHEMA, list_ids)


async def price_lists(session: AsyncSession) -> pl.DataFrame:
    rows = (
        await session.execute(
            text(
                f"""
                SELECT id, code, currency, priority, is_base, is_matrix,
                    coalesce(parent_id, 0) AS parent_id, markup_bp,
                    {day_number("valid_from", NEVER_BEFORE)} AS valid_from,
                    {day_number("valid_to", NEVER_AFTER)} AS valid_to
                FROM price_lists ORDER BY code
                """
            )
        )
    ).all()
    return pl.DataFrame(
        [tuple(r) for r in rows],
        schema={
            "id": pl.Int64,
            "code": pl.Utf8,
            "currency": pl.Utf8,
            "priority": pl.Int64,
            "is_base": pl.Boolean,
            "is_matrix": pl.Boolean,
            "parent_id": pl.Int64,
            "markup_bp": pl.Int64,
            "valid_from": pl.Int64,
            "valid_to": pl.Int64,
        },
        orient="row",
    )


async def group_lists(session: AsyncSession) -> dict[str, list[int]]:
    rows = (await session.execute(text("SELECT group_code, list_id FROM group_price_lists"))).all()
    found: dict[str, list[int]] = {}
    for group_code, list_id in rows:
        found.setdefault(group_code, []).append(list_id)
    return found


async def skus(session: AsyncSession) -> pl.DataFrame:
    return await copy_frame(
        session,
        "SELECT id, sku, coalesce(brand, ''), coalesce(category, '') FROM skus ORDER BY id",
        {"id": pl.Int64, "sku": pl.Utf8, "brand": pl.Utf8, "category": pl.Utf8},
    )


async def floors(session: AsyncSession) -> pl.DataFrame:
    return await copy_frame(
        session,
        "SELECT sku_id, currency, price_minor FROM floor_prices ORDER BY currency, sku_id",
        {"sku_id": pl.Int64, "currency": pl.Utf8, "price": pl.Int64},
    )


async def promotions(session: AsyncSession) -> pl.DataFrame:
    return await copy_frame(
        session,
        f"""
        SELECT code, scope, value, (percent * 100)::bigint,
            {day_number("valid_from", NEVER_BEFORE)}, {day_number("valid_to", NEVER_AFTER)}
        FROM promotions ORDER BY code
        """,
        {
            "code": pl.Utf8,
            "scope": pl.Utf8,
            "value": pl.Utf8,
            "bp": pl.Int64,
            "valid_from": pl.Int64,
            "valid_to": pl.Int64,
        },
    )


@dataclass
class ClientRow:
    id: int
    company_id: uuid.UUID
    currency: str
    group_code: str | None
    list_ids: list[int]
    matrix_list_id: int | None
    matrix_bp: int
    discounts: list[tuple[str, str, int]]  # (scope, value, bp)
    ladder: dict[str, Any] | None  # code, period, currency, levels
    turnover_minor: int  # in the ladder's currency, this period
    assignments: list[dict[str, Any]]  # what segment rules gave it, with the segments
    price_version: int  # the latest price version when this was read


LATEST_VERSION = "SELECT coalesce(max(id), 0) FROM price_versions WHERE applied_at IS NOT NULL"


async def latest_version(session: AsyncSession) -> int:
    return int(await session.scalar(text(LATEST_VERSION)) or 0)


CLIENT = text(
    """
    WITH live_rules AS (  -- what segment rules gave the client, while it lasts
        SELECT r.*, a.segments, a.assigned_at, a.valid_to AS assignment_valid_to
        FROM segment_assignments a JOIN segment_rules r ON r.id = a.rule_id
        JOIN clients sc ON sc.id = a.client_id
        WHERE sc.company_id = :company_id
          AND (a.valid_to IS NULL OR a.valid_to > CAST(:today AS date))
    )
    SELECT c.id, c.company_id, c.currency, c.group_code,
        coalesce((SELECT array_agg(list_id ORDER BY list_id) FROM (
                    SELECT list_id FROM client_price_lists WHERE client_id = c.id
                    UNION SELECT r.list_id FROM live_rules r WHERE r.action = 'price_list'
                  ) x), '{}') AS list_ids,
        m.list_id AS matrix_list_id, coalesce(m.markup_bp, 0) AS matrix_bp,
        coalesce((SELECT jsonb_agg(jsonb_build_array(scope, value, (percent * 100)::int))
                  FROM (SELECT scope, value, percent FROM client_discounts WHERE client_id = c.id
                        UNION ALL SELECT r.discount_scope, r.discount_value, r.discount_percent
                        FROM live_rules r WHERE r.action = 'discount') d), '[]') AS discounts,
        coalesce((SELECT jsonb_agg(jsonb_build_object(
                    'rule', r.code, 'action', r.action, 'price_list', l.code,
                    'discount_scope', r.discount_scope, 'discount_value', r.discount_value,
                    'discount_percent', r.discount_percent, 'segments', r.segments,
                    'assigned_at', r.assigned_at, 'valid_to', r.assignment_valid_to)
                    ORDER BY r.code)
                  FROM live_rules r LEFT JOIN price_lists l ON l.id = r.list_id), '[]')
            AS assignments,
        CASE WHEN l.id IS NOT NULL THEN jsonb_build_object(
            'code', l.code, 'period', l.period, 'currency', l.currency, 'levels', l.levels)
        END AS ladder,
        coalesce((SELECT sum(t.amount_minor) FROM client_turnover t
                  WHERE t.client_id = c.id AND t.currency = l.currency
                    AND t.month >= date_trunc(l.period, CAST(:today AS date))::date
                    AND t.month <= CAST(:today AS date)), 0)::bigint AS turnover_minor,
        (LATEST_VERSION) AS price_version
    FROM clients c
    LEFT JOIN client_matrix m ON m.client_id = c.id
    LEFT JOIN client_ladders cl ON cl.client_id = c.id
    LEFT JOIN ladders l ON l.id = cl.ladder_id
    WHERE c.company_id = :company_id
    """.replace("LATEST_VERSION", LATEST_VERSION)
)

CONTRACT_SCHEMA = {
    "sku_id": pl.Int64,
    "min_qty": pl.Int64,
    "price": pl.Int64,
    "currency": pl.Utf8,
    "valid_from": pl.Int64,
    "valid_to": pl.Int64,
    "gap": pl.Int8,
}


async def client(session: AsyncSession, company_id: uuid.UUID, today: date) -> ClientRow | None:
    row = (await session.execute(CLIENT, {"company_id": company_id, "today": today})).first()
    if row is None:
        return None
    return ClientRow(
        id=row.id,
        company_id=row.company_id,
        currency=row.currency,
        group_code=row.group_code,
        list_ids=list(row.list_ids),
        matrix_list_id=row.matrix_list_id,
        matrix_bp=row.matrix_bp,
        discounts=[(s, v, bp) for s, v, bp in row.discounts],
        ladder=row.ladder,
        turnover_minor=row.turnover_minor,
        assignments=list(row.assignments),
        price_version=row.price_version,
    )


async def contract_prices(session: AsyncSession, client_id: int) -> pl.DataFrame:
    """The client's contract rows, sorted by SKU; matrix gaps come as rows with gap=1."""
    return await copy_frame(
        session,
        f"""
        SELECT sku_id, (min_qty * 1000)::bigint, price_minor, currency,
            {day_number("valid_from", NEVER_BEFORE)}, {day_number("valid_to", NEVER_AFTER)}, 0
        FROM contract_prices WHERE client_id = {int(client_id)}
        UNION ALL
        SELECT sku_id, 0, -1, '', 0, 0, 1 FROM matrix_gaps WHERE client_id = {int(client_id)}
        ORDER BY 1, 2
        """,
        CONTRACT_SCHEMA,
    )


async def sellable_skus(session: AsyncSession) -> list[str]:
    rows = await session.scalars(text("SELECT sku FROM skus WHERE sellable ORDER BY sku"))
    return list(rows)


async def count_known_skus(session: AsyncSession, skus: list[str]) -> int:
    """How many of these SKUs the database knows."""
    found = await session.scalar(
        text("SELECT count(*) FROM skus WHERE sku = ANY(:skus)"), {"skus": skus}
    )
    return int(found or 0)


async def partner_clients(
    session: AsyncSession, partner: str, company_id: uuid.UUID | None = None
) -> list[Any]:
    """The active clients registered with a marketplace partner (or that one of them):
    company id, ERP id and legal name."""
    query = (
        "SELECT company_id, external_id, legal_name FROM clients"
        " WHERE partners @> ARRAY[CAST(:p AS varchar)] AND status = 'active'"
    )
    if company_id is not None:
        query += " AND company_id = :c"
    rows = await session.execute(
        text(query + " ORDER BY legal_name, company_id"), {"p": partner, "c": company_id}
    )
    return list(rows.all())
