"""The queries of the bulk policy endpoints: each reads or writes a whole batch in one
statement (arrays through `unnest`), never one per row, and locks what it replaces in a fixed
order so two batches (or a batch and a single edit) never deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.store.policy import GROUP_LOCK_SPACE, GROUP_LOCKS
from shared.clock import utcnow
from shared.problems import Conflict, FieldError

Discounts = frozenset[tuple[str, str, Decimal]]  # (scope, value, percent)


async def lists_by_code(
    session: AsyncSession, codes: Collection[str], *, lock: bool = False
) -> dict[str, Any]:
    """Every list named (locked in id order until commit for an edit of the lists), with
    whether lists derive from it."""
    rows = await session.execute(
        text(
            f"""
            SELECT l.id, l.code, l.name, l.currency, l.priority, l.is_base, l.is_matrix,
                l.parent_id, p.code AS parent_code, l.markup_bp, l.valid_from, l.valid_to,
                EXISTS (SELECT 1 FROM price_lists c WHERE c.parent_id = l.id) AS has_children
            FROM price_lists l LEFT JOIN price_lists p ON p.id = l.parent_id
            WHERE l.code = ANY(CAST(:codes AS text[]))
            ORDER BY l.id {"FOR UPDATE OF l" if lock else ""}
            """
        ),
        {"codes": sorted(codes)},
    )
    return {row.code: row for row in rows}


async def insert_lists(session: AsyncSession, lists: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Create the lists (parents named by code, among them or already stored): code -> id."""
    if not lists:
        return {}
    now = utcnow()
    rows = await session.execute(
        text(
            """
            INSERT INTO price_lists (code, name, currency, priority, is_base, is_matrix,
                markup_bp, valid_from, valid_to, updated_at)
            SELECT code, name, currency, priority, is_base, false, markup, vf, vt, :now
            FROM unnest(CAST(:code AS text[]), CAST(:name AS text[]), CAST(:currency AS text[]),
                CAST(:priority AS int[]), CAST(:is_base AS bool[]), CAST(:markup AS int[]),
                CAST(:vf AS date[]), CAST(:vt AS date[]))
                AS l(code, name, currency, priority, is_base, markup, vf, vt)
            ON CONFLICT (code) DO NOTHING
            RETURNING id, code
            """
        ),
        {"now": now, **_columns(lists, "code", "name", "currency", "priority", "is_base")}
        | {
            "markup": [item["markup_bp"] for item in lists],
            "vf": [item["valid_from"] for item in lists],
            "vt": [item["valid_to"] for item in lists],
        },
    )
    ids = {row.code: row.id for row in rows}
    if len(ids) < len(lists):
        taken = sorted({item["code"] for item in lists} - set(ids))
        raise Conflict(
            f"Lists {', '.join(taken[:20])} were created meanwhile; send the batch again.",
            errors=[FieldError(field="code", message=f"{code!r} exists now") for code in taken],
        )
    derived = [item for item in lists if item["parent_code"] is not None]
    if derived:
        await session.execute(
            text(
                """
                UPDATE price_lists l SET parent_id = p.id
                FROM unnest(CAST(:code AS text[]), CAST(:parent AS text[])) AS d(code, parent)
                JOIN price_lists p ON p.code = d.parent
                WHERE l.code = d.code
                """
            ),
            {
                "code": [item["code"] for item in derived],
                "parent": [item["parent_code"] for item in derived],
            },
        )
    return ids


async def update_lists(session: AsyncSession, lists: Sequence[Mapping[str, Any]]) -> None:
    """Store the fields that need no governance (name, currency, priority, base, validity)."""
    if not lists:
        return
    await session.execute(
        text(
            """
            UPDATE price_lists l SET name = u.name, currency = u.currency,
                priority = u.priority, is_base = u.is_base, valid_from = u.vf, valid_to = u.vt,
                updated_at = :now
            FROM unnest(CAST(:code AS text[]), CAST(:name AS text[]), CAST(:currency AS text[]),
                CAST(:priority AS int[]), CAST(:is_base AS bool[]), CAST(:vf AS date[]),
                CAST(:vt AS date[])) AS u(code, name, currency, priority, is_base, vf, vt)
            WHERE l.code = u.code
            """
        ),
        {"now": utcnow(), **_columns(lists, "code", "name", "currency", "priority", "is_base")}
        | {
            "vf": [item["valid_from"] for item in lists],
            "vt": [item["valid_to"] for item in lists],
        },
    )


async def derived_codes(session: AsyncSession, ids: Collection[int]) -> list[str]:
    """The codes of the lists deriving from these, at any depth."""
    if not ids:
        return []
    rows = await session.scalars(
        text(
            """
            WITH RECURSIVE down(id, code) AS (
                SELECT id, code FROM price_lists WHERE parent_id = ANY(CAST(:ids AS int[]))
                UNION
                SELECT p.id, p.code FROM price_lists p JOIN down ON p.parent_id = down.id
            )
            SELECT code FROM down
            """
        ),
        {"ids": sorted(ids)},
    )
    return list(rows)


async def list_codes(session: AsyncSession, ids: Collection[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(
        text("SELECT id, code FROM price_lists WHERE id = ANY(CAST(:ids AS int[]))"),
        {"ids": sorted(ids)},
    )
    return {list_id: code for list_id, code in rows.all()}


def _columns(rows: Sequence[Mapping[str, Any]], *names: str) -> dict[str, list[Any]]:
    return {name: [row[name] for row in rows] for name in names}


# Assignments ---------------------------------------------------------------------------------


async def lock_groups(session: AsyncSession, groups: Collection[str]) -> None:
    """The single edit's per-group lock (`store.policy.lock_group`) for every group named,
    taken in one fixed order."""
    await session.execute(
        text(
            """
            SELECT pg_advisory_xact_lock(:space, b) FROM (
                SELECT DISTINCT (hashtext(g) & 2147483647) % :buckets AS b
                FROM unnest(CAST(:groups AS text[])) AS g ORDER BY b
            ) AS locks
            """
        ),
        {"space": GROUP_LOCK_SPACE, "buckets": GROUP_LOCKS, "groups": sorted(groups)},
    )


async def group_lists(session: AsyncSession, groups: Collection[str]) -> dict[str, set[int]]:
    return await _assigned(session, "group_price_lists", "group_code", "text", groups)


async def replace_group_lists(session: AsyncSession, lists: Mapping[str, Collection[int]]) -> None:
    await _replace(session, "group_price_lists", "group_code", "text", lists)


async def clients_by_company(
    session: AsyncSession, company_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """The clients pricing knows among these companies, locked in id order until commit."""
    rows = await session.execute(
        text(
            "SELECT id, company_id FROM clients WHERE company_id = ANY(CAST(:ids AS uuid[]))"
            " ORDER BY id FOR UPDATE"
        ),
        {"ids": sorted(company_ids)},
    )
    return {company_id: client_id for client_id, company_id in rows.all()}


async def client_lists(session: AsyncSession, clients: Collection[int]) -> dict[int, set[int]]:
    return await _assigned(session, "client_price_lists", "client_id", "int", clients)


async def _assigned(
    session: AsyncSession, table: str, owner: str, owner_type: str, owners: Collection[Any]
) -> dict[Any, set[int]]:
    """Each owner's set of assigned list ids (owners without one left out)."""
    rows = await session.execute(
        text(
            f"SELECT {owner}, list_id FROM {table} WHERE {owner} = ANY(CAST(:o AS {owner_type}[]))"
        ),
        {"o": sorted(owners)},
    )
    found: dict[Any, set[int]] = {}
    for key, list_id in rows.all():
        found.setdefault(key, set()).add(list_id)
    return found


async def replace_client_lists(session: AsyncSession, lists: Mapping[int, Collection[int]]) -> None:
    await _replace(session, "client_price_lists", "client_id", "int", lists)


async def _replace(
    session: AsyncSession,
    table: str,
    owner: str,
    owner_type: str,
    lists: Mapping[Any, Collection[int]],
) -> None:
    """Each owner's whole set of lists: one DELETE and one INSERT for the batch."""
    if not lists:
        return
    await session.execute(
        text(f"DELETE FROM {table} WHERE {owner} = ANY(CAST(:owners AS {owner_type}[]))"),
        {"owners": list(lists)},
    )
    pairs = [(key, list_id) for key, ids in lists.items() for list_id in ids]
    if pairs:
        await session.execute(
            text(
                f"""
                INSERT INTO {table} ({owner}, list_id)
                SELECT o, l FROM unnest(CAST(:o AS {owner_type}[]), CAST(:l AS int[])) AS p(o, l)
                """
            ),
            {"o": [p[0] for p in pairs], "l": [p[1] for p in pairs]},
        )


# Client discounts ----------------------------------------------------------------------------


async def client_discounts(session: AsyncSession, clients: Collection[int]) -> dict[int, Discounts]:
    rows = await session.execute(
        text(
            "SELECT client_id, scope, value, percent FROM client_discounts"
            " WHERE client_id = ANY(CAST(:ids AS int[]))"
        ),
        {"ids": sorted(clients)},
    )
    found: dict[int, set[tuple[str, str, Decimal]]] = {}
    for client_id, scope, value, percent in rows.all():
        found.setdefault(client_id, set()).add((scope, value, percent))
    return {client_id: frozenset(d) for client_id, d in found.items()}


async def replace_discounts(session: AsyncSession, discounts: Mapping[int, Discounts]) -> int:
    """Each client's whole set of discounts; the rows removed and written."""
    if not discounts:
        return 0
    removed = await session.execute(
        text("DELETE FROM client_discounts WHERE client_id = ANY(CAST(:ids AS int[]))"),
        {"ids": list(discounts)},
    )
    rows = [(c, *d) for c, ds in discounts.items() for d in ds]
    if rows:
        await session.execute(
            text(
                """
                INSERT INTO client_discounts (client_id, scope, value, percent)
                SELECT * FROM unnest(CAST(:c AS int[]), CAST(:s AS text[]), CAST(:v AS text[]),
                    CAST(:p AS numeric[]))
                """
            ),
            {
                "c": [r[0] for r in rows],
                "s": [r[1] for r in rows],
                "v": [r[2] for r in rows],
                "p": [r[3] for r in rows],
            },
        )
    return int(removed.rowcount or 0) + len(rows)  # type: ignore[attr-defined]
