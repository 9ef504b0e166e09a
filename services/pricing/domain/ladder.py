"""Commercial-policy ladders: turnover in a period unlocks a discount or accrues a retro bonus,
and the client sees how far it is from the next level."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


@dataclass(frozen=True)
class Level:
    threshold_minor: int  # turnover in the period from which the level applies
    discount_percent: Decimal = Decimal(0)  # off list prices while the level holds
    bonus_percent: Decimal = Decimal(0)  # retro bonus on the whole period's turnover


@dataclass(frozen=True)
class Progress:
    turnover_minor: int
    current: Level | None
    next: Level | None
    left_minor: int | None  # turnover still needed for the next level
    bonus_minor: int  # retro bonus accrued at the current level


def levels_of(stored: list[dict[str, Any]]) -> list[Level]:
    """Levels as the ladders table keeps them (JSON; percents as strings or numbers)."""
    return [
        Level(
            int(level["threshold_minor"]),
            Decimal(str(level.get("discount_percent", 0))),
            Decimal(str(level.get("bonus_percent", 0))),
        )
        for level in stored
    ]


def progress(turnover_minor: int, levels: list[Level]) -> Progress:
    ordered = sorted(levels, key=lambda lv: lv.threshold_minor)
    reached = [lv for lv in ordered if lv.threshold_minor <= turnover_minor]
    ahead = [lv for lv in ordered if lv.threshold_minor > turnover_minor]
    current = reached[-1] if reached else None
    upcoming = ahead[0] if ahead else None
    bonus = Decimal(0)
    if current is not None:
        bonus = Decimal(turnover_minor) * current.bonus_percent / Decimal(100)
    return Progress(
        turnover_minor=turnover_minor,
        current=current,
        next=upcoming,
        left_minor=upcoming.threshold_minor - turnover_minor if upcoming else None,
        bonus_minor=int(bonus.quantize(Decimal(1), rounding=ROUND_HALF_UP)),
    )
