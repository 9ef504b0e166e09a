"""Percents as the API says them (two decimals) and as lists store a markup (basis points)."""

from __future__ import annotations

from decimal import Decimal

CENT = Decimal("0.01")


def basis_points(percent: Decimal) -> int:
    return int(percent * 100)


def from_basis_points(basis_points: int) -> Decimal:
    return (Decimal(basis_points) / 100).quantize(CENT)
