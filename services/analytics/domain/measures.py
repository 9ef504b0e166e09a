"""Small measures the sales figures share: days between moments, ratios, rounding."""

from __future__ import annotations

import polars as pl

DAY_US = 86_400_000_000


def days_between(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    return (later - earlier).dt.total_microseconds() / DAY_US


def ratio(part: float | None, whole: float | None) -> float | None:
    return round(part / whole, 4) if part is not None and whole else None


def rounded(value: object, digits: int = 1) -> float | None:
    return round(float(value), digits) if value is not None else None  # type: ignore[arg-type]
