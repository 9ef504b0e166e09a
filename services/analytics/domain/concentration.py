"""Concentration: how much of the seller's sales one client makes, and the alert levels it
passes (a company that depends on one client for a large share must know it early)."""

from __future__ import annotations

import polars as pl


def concentration_level(share: pl.Expr, levels: list[float]) -> pl.Expr:
    """The highest of `levels` the share is over (null under all): 0.25 with the default
    levels is 0.2, 0.5 is 0.4 (over means strictly above, as for key clients)."""
    level = pl.lit(None, dtype=pl.Float64)
    for value in sorted(levels):
        level = pl.when(share > value).then(pl.lit(float(value))).otherwise(level)
    return level
