"""Cursor (keyset) pagination: stable under inserts, no OFFSET scans."""

from __future__ import annotations

import base64
import math
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, literal, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from shared.fields import MAX_BIGINT
from shared.problems import FieldError, Unprocessable

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page")

    @classmethod
    def of(cls, found: tuple[Sequence[Any], str | None], read: Callable[[Any], T]) -> Page[T]:
        """The page of (rows, next cursor) as `paginate` or `page_of` found them."""
        rows, cursor = found
        return cls(items=[read(row) for row in rows], next_cursor=cursor)


class PageParams(BaseModel):
    cursor: str | None = None
    limit: int | None = 50  # None: every row (version 1's bare lists, shared.versions)


# Every list's `cursor` query parameter
Cursor = Annotated[
    str | None,
    Query(
        max_length=1000, pattern=r"^[A-Za-z0-9_-]*$", description="Opaque cursor from `next_cursor`"
    ),
]


async def page_params(
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> PageParams:
    return PageParams(cursor=cursor, limit=limit)


PageDep = Annotated[PageParams, Depends(page_params)]
EVERY = PageParams(limit=None)


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values), default=str)).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(values, list):
            raise ValueError("cursor is not a list")
        if not all(_plain(v) for v in values):
            raise ValueError("cursor holds a value no list is keyed by")
        return values
    except ValueError as exc:
        raise Unprocessable(
            "The cursor is not valid.", errors=[FieldError(field="cursor", message=str(exc))]
        ) from exc


def _plain(value: Any) -> bool:
    """What our cursors hold: texts, ids, numbers a database column takes (a forged one could
    carry a NUL or a number past BIGINT, which PostgreSQL would refuse with a 500)."""
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return abs(value) <= MAX_BIGINT
    if isinstance(value, float):
        return math.isfinite(value)
    return False


def _typed(key: InstrumentedAttribute[Any], value: Any) -> Any:
    """A cursor value back in its column's type; a forged one is refused, not sent to SQL."""
    python_type = key.type.python_type
    if value is None:
        return value
    if python_type is int and type(value) is int and abs(value) <= MAX_BIGINT:
        return value
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError(f"{key.key} is not valid")
    if python_type is str:
        return value
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    return python_type(value)


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    keys: Sequence[InstrumentedAttribute[Any]],
    params: PageParams,
    *,
    newest_first: bool = False,
) -> tuple[list[Any], str | None]:
    """Run `stmt` ordered by `keys` (the last one unique) from the cursor on; one page of rows.

    newest_first orders by every key descending (feed jobs, statements: latest first).
    """
    if params.cursor:
        values = decode_cursor(params.cursor)
        if len(values) != len(keys):
            raise Unprocessable("The cursor does not fit this list.")
        try:
            typed = [literal(_typed(k, v), type_=k.type) for k, v in zip(keys, values, strict=True)]
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise Unprocessable(
                "The cursor is not valid.", errors=[FieldError(field="cursor", message=str(exc))]
            ) from exc
        after = tuple_(*keys) < tuple_(*typed) if newest_first else tuple_(*keys) > tuple_(*typed)
        stmt = stmt.where(after)
    order = [k.desc() for k in keys] if newest_first else list(keys)
    if params.limit is None:
        return list((await session.scalars(stmt.order_by(*order))).all()), None
    rows = list((await session.scalars(stmt.order_by(*order).limit(params.limit + 1))).all())
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    last = rows[-1]
    return rows, encode_cursor([getattr(last, k.key) for k in keys])


def page_of(
    items: Iterable[T], key: Callable[[T], tuple[str | int, ...]], params: PageParams
) -> tuple[list[T], str | None]:
    """One page of a list computed in memory (a report's rows), in the order of `key`, which
    must be unique per item and hold texts and whole numbers only (negate one to sort it down)."""
    ordered = sorted(items, key=key)
    if params.cursor:
        after = tuple(decode_cursor(params.cursor))
        try:
            if ordered and len(after) != len(key(ordered[0])):
                raise TypeError("the cursor holds another list's keys")
            ordered = [item for item in ordered if key(item) > after]
        except TypeError as exc:
            raise Unprocessable(
                "The cursor does not fit this list.",
                errors=[FieldError(field="cursor", message=str(exc))],
            ) from exc
    if params.limit is None or len(ordered) <= params.limit:
        return ordered, None
    page = ordered[: params.limit]
    return page, encode_cursor(list(key(page[-1])))
