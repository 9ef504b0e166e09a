"""The lock-out of a login after failed passwords: a few tries are free, then the login is
locked for a while that doubles with every further failure, up to a ceiling. Kept per email in
the database, so every process (and every gateway in front) sees the same count."""

from __future__ import annotations

from datetime import timedelta

# Failures older than this no longer count: a password mistyped last week starts no lock-out.
FORGOTTEN_AFTER = timedelta(days=1)


def lockout_seconds(failures: int, free: int, first: float, longest: float) -> float:
    """How long the login stays locked after `failures` failures in a row: not at all before
    the `free`-th, then `first`, doubling with each further one, at most `longest`."""
    if failures < free:
        return 0.0
    return min(longest, first * 2.0 ** (failures - free))
