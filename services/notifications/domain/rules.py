"""Rules: which event, under which conditions, becomes which message for whom. Plain Python.

A rule's conditions test a context built from the event: `event.<field>` (the payload),
`company.<field>` (status, client_group) and `segment.<dimension>` (the client's segments as
analytics last reported them). A rule may be scheduled (`schedule`: so many days after the event
or after a date in the payload), deduplicated on payload fields instead of the event id
(`dedupe`), and cancelled before it is sent by a later event of the same thread (`cancel_on`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "exists", "contains")
# invitee: the person an event names by `email` (an invitation), who may have no account yet.
AUDIENCES = ("buyers", "company_admins", "sales_manager", "head_of_sales", "admins", "invitee")
CHANNELS = ("email", "inbox")
KINDS = ("orders", "quotes", "finance", "offers", "surveys", "stock", "tasks", "system")
_MISSING = object()


class RuleError(ValueError):
    """A rule that cannot be stored as written (bad operator, path or schedule)."""


@dataclass(frozen=True)
class Condition:
    path: str
    op: str
    value: Any = None

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise RuleError(f"unknown operator {self.op!r}; one of {', '.join(OPERATORS)}")
        if self.path.split(".", 1)[0] not in ("event", "company", "segment"):
            raise RuleError(f"path {self.path!r} must start with event., company. or segment.")


@dataclass(frozen=True)
class Schedule:
    """When the message is due: `days` after the event, or after the date at `from_path`."""

    days: float = 0
    from_path: str | None = None


@dataclass(frozen=True)
class CancelOn:
    event_type: str
    when: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Rule:
    code: str
    event_type: str
    audience: str
    channel: str
    kind: str
    template: str
    conditions: tuple[Condition, ...] = ()
    schedule: Schedule | None = None
    dedupe: tuple[str, ...] = ()
    thread: str | None = None
    cancel_on: tuple[CancelOn, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.audience not in AUDIENCES:
            raise RuleError(f"unknown audience {self.audience!r}; one of {', '.join(AUDIENCES)}")
        if self.channel not in CHANNELS:
            raise RuleError(f"unknown channel {self.channel!r}; one of {', '.join(CHANNELS)}")
        if self.kind not in KINDS:
            raise RuleError(f"unknown kind {self.kind!r}; one of {', '.join(KINDS)}")


def lookup(context: dict[str, Any], path: str) -> Any:
    """`event.lines.0.sku` style lookup; a missing step gives _MISSING."""
    node: Any = context
    for step in path.split("."):
        if isinstance(node, dict):
            node = node.get(step, _MISSING)
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """Numbers in payloads may travel as strings (decimals); compare them as numbers."""
    if isinstance(right, int | float) and isinstance(left, str):
        try:
            return float(left), right
        except ValueError:
            return left, right
    return left, right


def holds(condition: Condition, context: dict[str, Any]) -> bool:
    value = lookup(context, condition.path)
    op, expected = condition.op, condition.value
    if op == "exists":
        present = value is not _MISSING and value is not None
        return present if expected in (None, True) else not present
    if value is _MISSING:
        return op in ("ne", "not_in")
    if op == "in":
        return value in (expected or [])
    if op == "not_in":
        return value not in (expected or [])
    if op == "contains":
        return isinstance(value, list | str) and expected in value
    left, right = _comparable(value, expected)
    try:
        if op == "eq":
            return bool(left == right)
        if op == "ne":
            return bool(left != right)
        if op == "gt":
            return bool(left > right)
        if op == "gte":
            return bool(left >= right)
        if op == "lt":
            return bool(left < right)
        if op == "lte":
            return bool(left <= right)
    except TypeError:
        return False
    return False


def matches(conditions: tuple[Condition, ...] | list[Condition], context: dict[str, Any]) -> bool:
    return all(holds(c, context) for c in conditions)


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(9, 0), tzinfo=UTC)
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return datetime.combine(date.fromisoformat(value), time(9, 0), tzinfo=UTC)
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def due_at(rule: Rule, context: dict[str, Any], now: datetime) -> datetime:
    """When the message should go: now, or per the rule's schedule (a date counts from 09:00
    UTC of that day). A due time already past means now."""
    if rule.schedule is None:
        return now
    start = now
    if rule.schedule.from_path:
        found = _as_datetime(lookup(context, rule.schedule.from_path))
        if found is not None:
            start = found
    return max(now, start + timedelta(days=rule.schedule.days))


def dedupe_key(rule: Rule, event_id: uuid.UUID, context: dict[str, Any]) -> str:
    """What makes two messages of one rule to one person the same: the event, by default."""
    if not rule.dedupe:
        return str(event_id)
    parts = [lookup(context, p) for p in rule.dedupe]
    return "|".join("" if v is _MISSING else str(v) for v in parts)


def thread_of(rule: Rule, context: dict[str, Any]) -> str | None:
    if not rule.thread:
        return None
    value = lookup(context, rule.thread)
    return None if value is _MISSING or value is None else f"{rule.thread}={value}"


def cancels(rule: Rule, event_type: str, context: dict[str, Any]) -> bool:
    """Whether this event cancels the rule's messages not yet sent on its thread."""
    return any(c.event_type == event_type and matches(c.when, context) for c in rule.cancel_on)


# The payload fields naming the client an event is about: `company_id`, or analytics'.
COMPANY_FIELDS = ("company_id", "client_id")


def event_company(data: dict[str, Any]) -> uuid.UUID | None:
    """The client an event is about: `company_id`, or analytics' `client_id`."""
    for key in COMPANY_FIELDS:
        value = data.get(key)
        if value:
            try:
                return uuid.UUID(str(value))
            except ValueError:
                return None
    return None


def short_type(full_type: str) -> str:
    """`com.b2b.order.placed.v1` -> `order.placed.v1` (rules and subscriptions use the short)."""
    return full_type.removeprefix("com.b2b.")


def published_types(contracts: Mapping[str, type[BaseModel]]) -> dict[str, bool]:
    """Each published event type (CloudEvents type -> contract), short, and whether its
    payload names the client it is about: only those can reach a company's subscription."""
    return {
        short_type(full_type): any(name in contract.model_fields for name in COMPANY_FIELDS)
        for full_type, contract in contracts.items()
    }


def rule_from_row(row: dict[str, Any]) -> Rule:
    """A rule as stored (JSON columns) -> the plain rule."""
    schedule = row.get("schedule")
    return Rule(
        code=row["code"],
        event_type=row["event_type"],
        audience=row["audience"],
        channel=row["channel"],
        kind=row["kind"],
        template=row["template"],
        conditions=tuple(Condition(**c) for c in row.get("conditions") or []),
        schedule=Schedule(days=schedule.get("days", 0), from_path=schedule.get("from_path"))
        if schedule
        else None,
        dedupe=tuple(row.get("dedupe") or ()),
        thread=row.get("thread"),
        cancel_on=tuple(
            CancelOn(
                event_type=c["event_type"],
                when=tuple(Condition(**w) for w in c.get("when") or []),
            )
            for c in row.get("cancel_on") or []
        ),
    )
