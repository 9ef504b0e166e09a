"""Slipped promises: when a new promised date is a delay, and what a delay does to on-time
delivery (OTIF)."""

from __future__ import annotations

from datetime import date


def slipped(before: date | None, now: date | None) -> bool:
    """Whether ERP moved the promised date later. A first promise is no delay, nor an earlier
    date, nor a date taken away."""
    return before is not None and now is not None and now > before


def on_time(delivered_on: date, promised_to: date | None, moved_from: date | None) -> bool | None:
    """Delivered on time: by the earliest date promised. A date ERP moved later does not move
    the measure (`moved_from`: the earliest date it moved from), so a slip counts as late; a
    missed window needs no rule of its own, its delivery comes after the window. None when
    nothing was promised."""
    if promised_to is None:
        return None
    promise = promised_to if moved_from is None else min(promised_to, moved_from)
    return delivered_on <= promise
