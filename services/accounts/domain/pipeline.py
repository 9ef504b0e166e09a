"""The sales pipeline's rules: which stages a seller may configure, and which stage a quote or
an order moves a company to. Plain Python; the store applies the answers."""

from __future__ import annotations

from dataclasses import dataclass

from shared.problems import FieldError

# What can move a company into a stage by itself.
MILESTONES = ("quote_requested", "first_order", "repeat_order")

DEFAULT_STAGES = (
    ("lead", "Lead", None),
    ("qualified", "Qualified", None),
    ("first_quote", "First quote", "quote_requested"),
    ("first_order", "First order", "first_order"),
    ("repeat", "Repeat", "repeat_order"),
)


@dataclass(frozen=True)
class Stage:
    code: str
    name: str
    position: int
    reached_on: str | None = None


def check_stages(stages: list[Stage]) -> list[FieldError]:
    """A pipeline needs at least one stage, distinct codes, and each milestone at most once."""
    errors = []
    if not stages:
        errors.append(FieldError(field="stages", message="name at least one stage"))
    seen_codes: set[str] = set()
    seen_milestones: set[str] = set()
    for row, stage in enumerate(stages, start=1):
        if stage.code in seen_codes:
            errors.append(FieldError(field="code", message="appears twice", row=row))
        seen_codes.add(stage.code)
        if stage.reached_on is not None:
            if stage.reached_on in seen_milestones:
                errors.append(FieldError(field="reached_on", message="appears twice", row=row))
            seen_milestones.add(stage.reached_on)
    return errors


def milestone_of_order(orders_before: int, adds_to_earlier: bool) -> str | None:
    """The first order is a first order; a later one is a repeat unless it adds to an earlier
    order (the same need: an add-on is not a new deal)."""
    if orders_before == 0:
        return "first_order"
    return None if adds_to_earlier else "repeat_order"


def stage_reached(stages: list[Stage], current: str | None, milestone: str) -> Stage | None:
    """The stage `milestone` moves a company to, if that is forward of where it stands; a
    pipeline only moves back by a manager's hand."""
    target = next((s for s in stages if s.reached_on == milestone), None)
    if target is None:
        return None
    here = next((s for s in stages if s.code == current), None)
    if here is not None and here.position >= target.position:
        return None
    return target
