"""The one clock business code reads "now" from.

Dates decide prices (validity windows), reservations (expiry), quotes (validity), analytics
(months, periods, gaps) and notifications (quiet hours, digests). Every such rule reads the
time here, never `datetime.now()`, `date.today()` or PostgreSQL's `now()`, so that a test, a
demo or `make test-dates` can say which day it is.

`B2B_CLOCK` (an ISO 8601 time with an offset, say `2028-02-29T10:00:00Z`) starts the clock
at that moment when the process starts; it then runs at the machine's pace, so timeouts and
polling loops behave as usual. Child processes inherit the variable and agree on the day.
Unset, the clock is the machine's.

Security timestamps (signatures, token lifetimes) keep the machine's time: they measure real
elapsed seconds, not business days. So do the `updated_at` audit columns that bulk SQL stamps
with the database's `now()`; no rule compares them with the clock. SQL that decides anything
by time takes the clock's time as a parameter (`:now`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

ENV = "B2B_CLOCK"

_offset = timedelta(0)


def parse(value: str) -> datetime:
    """An aware time from ISO 8601 (a trailing Z allowed); a bare date is its midnight UTC."""
    value = value.strip()
    if len(value) == len("2028-02-29"):
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{ENV} needs an offset (Z or +hh:mm): {value!r}")
    return moment.astimezone(UTC)


def set_clock(moment: datetime | None) -> None:
    """From now on the clock reads `moment` and runs on; None: the machine's time again."""
    global _offset
    _offset = timedelta(0) if moment is None else moment - datetime.now(UTC)


@contextlib.contextmanager
def moved_to(moment: datetime) -> Iterator[None]:
    """The clock reads `moment` (and runs on) inside the block, as it was after it."""
    global _offset
    before = _offset
    set_clock(moment)
    try:
        yield
    finally:
        _offset = before


def utcnow() -> datetime:
    """Now, timezone-aware UTC, as the business sees it."""
    return datetime.now(UTC) + _offset


def today() -> date:
    """Today's date in UTC."""
    return utcnow().date()


def timestamp() -> float:
    """`utcnow()` as POSIX seconds, for code that counts in seconds."""
    return time.time() + _offset.total_seconds()


if os.environ.get(ENV):
    set_clock(parse(os.environ[ENV]))
