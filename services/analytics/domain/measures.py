"""Small measures the sales figures share: days between moments, ratios, rounding."""

from __future__ import annotations

import struct

import polars as pl

DAY_US = 86_400_000_000


def days_between(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    return (later - earlier).dt.total_microseconds() / DAY_US


def ratio(part: float | None, whole: float | None) -> float | None:
    return round(part / whole, 4) if part is not None and whole else None


def rounded(value: object, digits: int = 1) -> float | None:
    return round(float(value), digits) if value is not None else None  # type: ignore[arg-type]


def ordinal(value: float) -> int:
    """A whole number that sorts as `value` does (its IEEE 754 bits, a negative's flipped):
    a report ordered by a ratio can then be paged by a cursor, which holds no floats."""
    (bits,) = struct.unpack(">q", struct.pack(">d", value))
    return bits if bits >= 0 else -(bits & 0x7FFF_FFFF_FFFF_FFFF)
