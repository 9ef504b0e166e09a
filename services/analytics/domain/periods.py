"""Calendar months as the API names them."""

from __future__ import annotations

from datetime import date


def first_day(month: str) -> date:
    """The first day of a `MONTH` (YYYY-MM)."""
    return date(int(month[:4]), int(month[5:7]), 1)
