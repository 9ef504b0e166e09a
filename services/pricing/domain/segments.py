"""Segment-driven commercial policy: which rules a client's analytics segments trigger.

A rule names segment values (`{"abc_revenue": "A", "regularity": "regular"}`, all must hold)
and what it gives: a price list or a discount, for a number of days or for as long as the
segments hold. An open-ended assignment ends when the client leaves the segment; a timed one
(a 60-day retention discount) runs its course.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Rule:
    id: int
    code: str
    conditions: dict[str, str]
    duration_days: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None  # exclusive

    def in_force(self, today: date) -> bool:
        return (self.valid_from is None or self.valid_from <= today) and (
            self.valid_to is None or today < self.valid_to
        )

    def matches(self, segments: dict[str, str], today: date) -> bool:
        return self.in_force(today) and all(
            segments.get(dimension) == value for dimension, value in self.conditions.items()
        )

    def ends(self, today: date) -> date | None:
        """The first day the assignment no longer applies (the rule's end caps it)."""
        end = today + timedelta(days=self.duration_days) if self.duration_days else None
        if self.valid_to is not None and (end is None or self.valid_to < end):
            return self.valid_to
        return end


@dataclass(frozen=True)
class Assignment:
    rule: Rule
    valid_to: date | None
    segments: dict[str, str]  # the segment values that caused it


def reassign(
    rules: list[Rule],
    segments: dict[str, str],
    current: dict[int, date | None],
    today: date,
) -> tuple[list[Assignment], list[int]]:
    """What to assign and what to end, given the client's segments now and its current
    assignments ({rule id: valid_to}). A live assignment of a matching rule stays as it is."""
    add: list[Assignment] = []
    end: list[int] = []
    for rule in rules:
        held = rule.id in current
        live = held and (current[rule.id] is None or today < current[rule.id])  # type: ignore[operator]
        if rule.matches(segments, today):
            if not live:
                cause = {d: segments[d] for d in rule.conditions}
                add.append(Assignment(rule, rule.ends(today), cause))
        elif held and (not live or current[rule.id] is None):
            end.append(rule.id)  # left the segment (open-ended), or a timed one ran out
    return add, end
