"""What pricing tells a client about its own terms: how close its turnover came to the next
ladder level, and which of its contract prices end soon. Plain rules; the store finds the facts
and the events carry the result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from services.pricing.domain.ladder import Level, Progress, progress

PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def period_start(period: str, day: date) -> date:
    """First day of the ladder period (month, quarter, year) that `day` falls in."""
    months = PERIOD_MONTHS[period]
    return day.replace(month=(day.month - 1) // months * months + 1, day=1)


def is_near(reached: Progress, nudge_percent: Decimal) -> bool:
    """What is left for the next level is at most `nudge_percent` of that level's threshold."""
    if reached.next is None or reached.left_minor is None:
        return False
    return reached.left_minor * 100 <= reached.next.threshold_minor * nudge_percent


@dataclass(frozen=True)
class LadderAlert:
    status: Literal["near", "reached"]
    progress: Progress


def ladder_alert(
    levels: list[Level], before_minor: int, after_minor: int, nudge_percent: Decimal
) -> LadderAlert | None:
    """What a change of the period's turnover from `before_minor` to `after_minor` is worth
    telling: a higher level reached, or the next level come within reach. Only the crossing is
    told: a client already near the same level, or already on it, hears nothing new."""
    before, after = progress(before_minor, levels), progress(after_minor, levels)
    if after.current is not None and (
        before.current is None or after.current.threshold_minor > before.current.threshold_minor
    ):
        return LadderAlert("reached", after)
    if is_near(after, nudge_percent) and not (
        before.next == after.next and is_near(before, nudge_percent)
    ):
        return LadderAlert("near", after)
    return None


def expiry_window(today: date, days: int) -> tuple[date, date]:
    """(after, until): contract rows whose `valid_to` is after today and at most `days` ahead
    end within the window (a row ending today already ended)."""
    return today, today + timedelta(days=days)
