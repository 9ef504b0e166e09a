"""Every query of the commercial-policy admin API: price lists, assignments, client discounts,
floors, promotions, ladders, and the price.changed event each edit records.

Rules that need the database (a parent's currency, no cycles, what exists) are checked here
and raise problems naming the field; lists of things are read and written in one statement
each, never one per row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, delete, exists, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.store.models import (
    Client,
    ClientDiscount,
    ClientPriceList,
    GroupPriceList,
    PriceList,
    PriceListEntry,
    Sku,
)
from shared.clock import utcnow
from shared.contracts.pricing import PriceChangedV1
from shared.db import add_unique
from shared.events.outbox import record_event
from shared.fields import MAX_COUNT, MAX_QUANTITY
from shared.pagination import PageParams, decode_cursor, encode_cursor
from shared.problems import Conflict, FieldError, NotFound, Unprocessable


def unknown(field: str, message: str, row: int | None = None) -> Unprocessable:
    """A reference in the body to something that does not exist: 422 naming the field."""
    return Unprocessable(
        f"Unknown {field.split('[')[0]}.",
        errors=[FieldError(field=field, message=message, row=row)],
    )


def invalid(field: str, message: str, row: int | None = None) -> Unprocessable:
    return Unprocessable(message, errors=[FieldError(field=field, message=message, row=row)])


# Clients and SKUs (projections; read only here) ---------------------------------------------


async def get_client(session: AsyncSession, company_id: uuid.UUID, *, lock: bool = False) -> Client:
    """The client by its company id; locked until commit for a write, so two replacements of
    the same client's policy run one after the other."""
    stmt = select(Client).where(Client.company_id == company_id)
    if lock:
        stmt = stmt.with_for_update()
    found = await session.scalar(stmt)
    if found is None:
        raise NotFound(
            "No such client.",
            errors=[FieldError(field="company_id", message=f"pricing knows no {company_id}")],
        )
    return found


async def sku_id(session: AsyncSession, sku: str, *, field: str = "sku", body: bool = False) -> int:
    """The SKU's id; unknown is 404 in a path, 422 naming the field in a body or query."""
    found = await session.scalar(select(Sku.id).where(Sku.sku == sku))
    if found is None:
        if body:
            raise unknown(field, f"no SKU {sku!r}")
        raise NotFound("No such SKU.", errors=[FieldError(field=field, message=f"no SKU {sku!r}")])
    return found


async def sku_codes(session: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(select(Sku.id, Sku.sku).where(Sku.id.in_(wanted)))
    return {row.id: row.sku for row in rows}


# Price lists ---------------------------------------------------------------------------------


async def get_list(session: AsyncSession, code: str, *, lock: bool = False) -> PriceList:
    stmt = select(PriceList).where(PriceList.code == code)
    if lock:
        stmt = stmt.with_for_update()
    found = await session.scalar(stmt)
    if found is None:
        raise NotFound("No such price list.")
    return found


def editable(price_list: PriceList) -> PriceList:
    if price_list.is_matrix:
        raise Conflict(
            "This list was derived from a matrix feed; it changes only through price feeds."
        )
    return price_list


async def list_codes_of(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = await session.execute(
        select(PriceList.id, PriceList.code).where(PriceList.id.in_(wanted))
    )
    return {row.id: row.code for row in rows}


def price_lists_query(
    *, currency: str | None, is_base: bool | None, is_matrix: bool | None
) -> Select[tuple[PriceList]]:
    stmt = select(PriceList)
    if currency is not None:
        stmt = stmt.where(PriceList.currency == currency)
    if is_base is not None:
        stmt = stmt.where(PriceList.is_base == is_base)
    if is_matrix is not None:
        stmt = stmt.where(PriceList.is_matrix == is_matrix)
    return stmt


async def parent_for(session: AsyncSession, code: str, currency: str) -> PriceList:
    """The parent a list may derive from: it exists, is no matrix list, has the same currency."""
    parent = await session.scalar(select(PriceList).where(PriceList.code == code))
    if parent is None:
        raise unknown("parent_code", f"no price list {code!r}")
    if parent.is_matrix:
        raise invalid("parent_code", f"{code!r} is a matrix list; derive from an editable list")
    if parent.currency != currency:
        raise invalid(
            "parent_code", f"{code!r} is in {parent.currency}; a derived list has its currency"
        )
    return parent


async def would_cycle(session: AsyncSession, list_id: int, parent_id: int) -> bool:
    """Whether `list_id` is `parent_id` or one of its ancestors (UNION stops on old loops)."""
    return bool(
        await session.scalar(
            text(
                """
                WITH RECURSIVE up(id, parent_id) AS (
                    SELECT id, parent_id FROM price_lists WHERE id = :parent
                    UNION
                    SELECT p.id, p.parent_id FROM price_lists p JOIN up ON p.id = up.parent_id
                )
                SELECT EXISTS (SELECT 1 FROM up WHERE id = :me)
                """
            ),
            {"parent": parent_id, "me": list_id},
        )
    )


async def derived_lists(session: AsyncSession, list_id: int) -> list[tuple[str, str]]:
    """(code, currency) of every list deriving from this one, at any depth."""
    rows = await session.execute(
        text(
            """
            WITH RECURSIVE down(id, code, currency) AS (
                SELECT id, code, currency FROM price_lists WHERE parent_id = :id
                UNION
                SELECT p.id, p.code, p.currency FROM price_lists p JOIN down ON p.parent_id = down.id
            )
            SELECT code, currency FROM down ORDER BY code
            """
        ),
        {"id": list_id},
    )
    return [(row.code, row.currency) for row in rows]


async def has_entries(session: AsyncSession, list_id: int) -> bool:
    return bool(await session.scalar(select(exists().where(PriceListEntry.list_id == list_id))))


async def add_list(session: AsyncSession, price_list: PriceList) -> PriceList:
    return await add_unique(session, price_list, f"A price list {price_list.code!r} exists.")


async def remove_list(session: AsyncSession, price_list: PriceList) -> None:
    """Its entries and assignments go with it (ON DELETE CASCADE)."""
    await session.execute(delete(PriceList).where(PriceList.id == price_list.id))


@dataclass
class EntryRow:
    sku: str
    min_qty: Decimal
    price_minor: int
    valid_from: date | None
    valid_to: date | None


ENTRIES_PAGE = """
SELECT e.sku_id, s.sku, e.min_qty, e.price_minor, e.valid_from::text AS valid_from_key,
    CASE WHEN isfinite(e.valid_from) THEN e.valid_from END AS valid_from,
    CASE WHEN isfinite(e.valid_to) THEN e.valid_to END AS valid_to
FROM price_list_entries e
JOIN skus s ON s.id = e.sku_id
WHERE e.list_id = :list_id {filters}
ORDER BY e.sku_id, e.min_qty, e.valid_from
LIMIT :limit
"""


async def entries_page(
    session: AsyncSession, list_id: int, sku: int | None, params: PageParams
) -> tuple[list[EntryRow], str | None]:
    """One page of a list's own entries in primary-key order (SKU, tier, start)."""
    filters = ""
    args: dict[str, Any] = {"list_id": list_id, "limit": params.limit + 1}
    if sku is not None:
        filters += " AND e.sku_id = :sku_id"
        args["sku_id"] = sku
    if params.cursor:
        values = decode_cursor(params.cursor)
        try:
            after_sku, after_qty, after_from = int(values[0]), Decimal(values[1]), str(values[2])
            if not (0 <= after_sku <= MAX_COUNT and abs(after_qty) <= MAX_QUANTITY):
                raise ValueError("out of range")
            if after_from not in ("-infinity", "infinity"):
                date.fromisoformat(after_from)
        except (IndexError, ValueError, TypeError, InvalidOperation) as exc:
            raise invalid("cursor", "The cursor does not fit this list.") from exc
        filters += (
            " AND (e.sku_id, e.min_qty, e.valid_from)"
            " > (:after_sku, :after_qty, CAST(CAST(:after_from AS text) AS date))"
        )
        args.update(after_sku=after_sku, after_qty=after_qty, after_from=after_from)
    rows = (await session.execute(text(ENTRIES_PAGE.format(filters=filters)), args)).all()
    cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        last = rows[-1]
        cursor = encode_cursor([last.sku_id, str(last.min_qty), last.valid_from_key])
    return [
        EntryRow(r.sku, r.min_qty, r.price_minor, r.valid_from, r.valid_to) for r in rows
    ], cursor


# Assignments ---------------------------------------------------------------------------------


async def assignable_lists(session: AsyncSession, codes: Sequence[str]) -> list[int]:
    """Ids of the lists named (in order); every unknown or matrix code is a field error."""
    rows = await session.execute(
        select(PriceList.code, PriceList.id, PriceList.is_matrix).where(PriceList.code.in_(codes))
    )
    found = {row.code: row for row in rows}
    errors = []
    for i, code in enumerate(codes):
        row = found.get(code)
        if row is None:
            errors.append(
                FieldError(field=f"list_codes[{i}]", message=f"no price list {code!r}", row=i + 1)
            )
        elif row.is_matrix:
            errors.append(
                FieldError(
                    field=f"list_codes[{i}]",
                    message=f"{code!r} is a matrix list; feeds assign those",
                    row=i + 1,
                )
            )
    if errors:
        raise Unprocessable("Some lists cannot be assigned; see errors.", errors=errors)
    return [found[code].id for code in codes]


def _codes_by_priority(
    link: type[ClientPriceList] | type[GroupPriceList], where: Any
) -> Select[tuple[str]]:
    return (
        select(PriceList.code)
        .join(link, link.list_id == PriceList.id)
        .where(where)
        .order_by(PriceList.priority.desc(), PriceList.code)
    )


async def client_list_codes(session: AsyncSession, client_id: int) -> list[str]:
    stmt = _codes_by_priority(ClientPriceList, ClientPriceList.client_id == client_id)
    return list(await session.scalars(stmt))


async def group_list_codes(session: AsyncSession, group_code: str) -> list[str]:
    stmt = _codes_by_priority(GroupPriceList, GroupPriceList.group_code == group_code)
    return list(await session.scalars(stmt))


# Groups live in accounts, so there is no row to lock: an advisory lock per group, hashed into
# a bounded set so a bulk edit of 10,000 groups takes at most this many locks.
GROUP_LOCK_SPACE = 0x70726370  # the two-key advisory locks of pricing's client groups
GROUP_LOCKS = 256


async def lock_group(session: AsyncSession, group_code: str) -> None:
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:space, (hashtext(:g) & 2147483647) % :buckets)"),
        {"space": GROUP_LOCK_SPACE, "buckets": GROUP_LOCKS, "g": group_code},
    )


# Client discounts ----------------------------------------------------------------------------


async def client_discounts(session: AsyncSession, client_id: int) -> list[ClientDiscount]:
    rows = await session.scalars(
        select(ClientDiscount)
        .where(ClientDiscount.client_id == client_id)
        .order_by(ClientDiscount.scope, ClientDiscount.value)
    )
    return list(rows)


async def replace_discounts(
    session: AsyncSession, client_id: int, discounts: list[dict[str, Any]]
) -> int:
    """Replace the client's discounts; the rows removed and written."""
    removed = await session.execute(
        delete(ClientDiscount).where(ClientDiscount.client_id == client_id)
    )
    if discounts:
        await session.execute(
            insert(ClientDiscount).values([{"client_id": client_id, **d} for d in discounts])
        )
    return int(removed.rowcount or 0) + len(discounts)  # type: ignore[attr-defined]


# Floors --------------------------------------------------------------------------------------


def record_price_change(
    session: AsyncSession,
    cause: str,
    *,
    list_codes: Iterable[str] = (),
    client_ids: Iterable[uuid.UUID] = (),
    policy: bool = False,
    skus: Iterable[str] = (),
    rows: int = 0,
) -> PriceChangedV1:
    """One price.changed for the edit, in its transaction: it commits or vanishes with it."""
    touched = sorted(set(skus))
    event = PriceChangedV1(
        change_id=uuid.uuid4(),
        cause=cause,
        list_codes=sorted(set(list_codes)),
        client_ids=sorted(set(client_ids)),
        policy=policy,
        sku_from=touched[0] if touched else None,
        sku_to=touched[-1] if touched else None,
        rows=rows,
        changed_at=utcnow(),
    )
    record_event(session, event)
    return event
