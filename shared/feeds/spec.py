"""What a service declares about one feed: its columns and checks, and how valid rows apply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from shared.auth import Role

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.feeds.models import FeedJob


class ColumnType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"  # also money in minor units
    DECIMAL = "decimal"  # quantities, with `scale` digits after the point at most
    DATE = "date"  # YYYY-MM-DD
    DATETIME = "datetime"  # ISO 8601 with an offset; stored in UTC
    BOOLEAN = "boolean"  # true/false, 1/0, yes/no
    CURRENCY = "currency"  # an ISO 4217 code (shared.fields.CURRENCIES), any case


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = ColumnType.TEXT
    required: bool = False
    description: str = ""
    max_length: int | None = None
    pattern: str | None = None  # a regular expression the whole text must match
    choices: tuple[str, ...] | None = None
    minimum: int | None = None
    positive: bool = False  # numbers only: above 0 (a quantity, a size, a batch)
    # Default: the kernel's bound for the type (shared.fields: MAX_MINOR for integers, which are
    # mostly money, MAX_QUANTITY for decimals); dates and times are within the business years.
    maximum: int | Decimal | None = None
    scale: int = 3  # DECIMAL only
    upper: bool = False  # TEXT only: normalise to upper case (country codes)
    multiline: bool = False  # TEXT only: line breaks and tabs allowed (a description)

    @property
    def pg_type(self) -> str:
        return {
            ColumnType.TEXT: "text",
            ColumnType.INTEGER: "bigint",
            ColumnType.DECIMAL: f"numeric(38, {self.scale})",
            ColumnType.DATE: "date",
            ColumnType.DATETIME: "timestamptz",
            ColumnType.BOOLEAN: "boolean",
            ColumnType.CURRENCY: "text",
        }[self.type]


# Rejections of rows by a rule that needs the database (unknown client group, unknown SKU):
# given the session and the staging table of rows that passed the column checks, return
# (row, field, reason) triples. Runs as SQL over the whole staging table, never row by row.
DatabaseCheck = Callable[["AsyncSession", str], Awaitable[list[tuple[int, str, str]]]]
# Applies the valid rows in the staging table in the job's transaction; returns counts.
Apply = Callable[["AsyncSession", str, "FeedJob"], Awaitable[dict[str, Any]]]
# A feed that cannot go through the generic path (too big to hold as one frame) processes its
# claimed job itself: validate, apply and record the outcome on the job, all or nothing.
Process = Callable[
    ["async_sessionmaker[AsyncSession]", "FeedSpec", "FeedJob", Path], Awaitable[None]
]
# Row rules needing no database: given the typed frame, a frame of (_row, field, reason).
FrameCheck = Callable[[pl.DataFrame], pl.DataFrame]


@dataclass(frozen=True)
class FeedSpec:
    """One feed a service accepts at `POST /feeds/{kind}`."""

    kind: str
    title: str
    description: str
    columns: Sequence[Column]
    key: Sequence[str]  # a row's identity; a key twice in one file is an error
    apply: Apply | None = None  # required unless `process` is given
    frame_checks: Sequence[FrameCheck] = ()
    database_checks: Sequence[DatabaseCheck] = ()
    supports_full: bool = False  # a `full` feed retires what it does not mention
    # `?dry_run=true`: the processor reports what the feed would change and changes nothing
    # (it finds `dry_run` in the job's options); only a `process` feed can honour it.
    supports_dry_run: bool = False
    process: Process | None = None  # replaces the generic validate-and-apply path
    roles: frozenset[Role] = field(default_factory=lambda: frozenset({Role.INTEGRATOR, Role.ADMIN}))

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)
