"""Queries on messages and rules: creating them once, cancelling, the inbox."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.domain import rules
from services.notifications.store.models import Message, Rule, Template
from shared.pagination import PageParams, paginate


async def rules_for(session: AsyncSession, event_type: str) -> list[rules.Rule]:
    """Enabled rules that fire on `event_type` or that it may cancel."""
    rows = await session.execute(
        select(*RULE_COLUMNS).where(
            Rule.enabled,
            or_(
                Rule.event_type == event_type,
                Rule.cancel_on.contains([{"event_type": event_type}]),
            ),
        )
    )
    return [rules.rule_from_row(dict(r._mapping)) for r in rows]


RULE_COLUMNS = (
    Rule.code,
    Rule.event_type,
    Rule.audience,
    Rule.channel,
    Rule.kind,
    Rule.template,
    Rule.conditions,
    Rule.schedule,
    Rule.dedupe,
    Rule.thread,
    Rule.cancel_on,
)


class RuleCache:
    """Every enabled rule, read at most every `ttl` seconds: rules change rarely and are read
    for every event. Changes through this process's API clear it at once; other processes
    see them within `ttl`."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._loaded_at = -float("inf")
        self._rules: list[rules.Rule] = []

    def clear(self) -> None:
        self._loaded_at = -float("inf")

    async def rules_for(self, session: AsyncSession, event_type: str) -> list[rules.Rule]:
        if time.monotonic() - self._loaded_at > self.ttl:
            rows = await session.execute(select(*RULE_COLUMNS).where(Rule.enabled))
            self._rules = [rules.rule_from_row(dict(r._mapping)) for r in rows]
            self._loaded_at = time.monotonic()
        return [
            r
            for r in self._rules
            if r.event_type == event_type or any(c.event_type == event_type for c in r.cancel_on)
        ]


async def templates_of(session: AsyncSession, key: str) -> dict[str, Template]:
    rows = await session.scalars(select(Template).where(Template.key == key))
    return {t.locale: t for t in rows}


async def cancel_thread(session: AsyncSession, rule_code: str, thread: str) -> int:
    result = await session.execute(
        update(Message)
        .where(
            Message.rule_code == rule_code,
            Message.thread == thread,
            Message.status.in_(("pending", "digest")),
        )
        .values(status="cancelled")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def recent_emails(session: AsyncSession, recipient_id: uuid.UUID, since: datetime) -> int:
    """Emails this person was sent (or is about to be) since `since`: the throttle's count."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Message)
            .where(
                Message.recipient_id == recipient_id,
                Message.channel == "email",
                Message.status.in_(("pending", "sent")),
                Message.created_at >= since,
            )
        )
        or 0
    )


async def add_message(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert unless (rule, recipient, dedupe key) exists; True when it is new."""
    inserted = await session.scalar(
        insert(Message)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["rule_code", "recipient_id", "dedupe_key"])
        .returning(Message.id)
    )
    return inserted is not None


async def deliver_due_inbox(session: AsyncSession, now: datetime) -> int:
    """Scheduled inbox messages (tasks due in N days) appear when due."""
    result = await session.execute(
        update(Message)
        .where(Message.status == "pending", Message.channel == "inbox", Message.due_at <= now)
        .values(status="delivered", sent_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def claim_emails(session: AsyncSession, now: datetime, limit: int) -> list[Message]:
    """Take due emails for a while (a lease): another worker skips them until it runs out."""
    ids = (
        select(Message.id)
        .where(Message.status == "pending", Message.channel == "email", Message.due_at <= now)
        .order_by(Message.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = await session.scalars(
        update(Message)
        .where(Message.id.in_(ids))
        .values(due_at=now + timedelta(minutes=5), attempts=Message.attempts + 1)
        .returning(Message)
    )
    return list(rows)


async def due_digests(session: AsyncSession, now: datetime, limit: int) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(Message.recipient_id)
        .where(Message.status == "digest", Message.due_at <= now)
        .group_by(Message.recipient_id)
        .limit(limit)
    )
    return list(rows)


async def take_digest(
    session: AsyncSession, recipient_id: uuid.UUID, now: datetime
) -> list[Message]:
    rows = await session.scalars(
        select(Message)
        .where(
            Message.recipient_id == recipient_id,
            Message.status == "digest",
            Message.due_at <= now,
        )
        .order_by(Message.created_at, Message.id)
        .with_for_update(skip_locked=True)
    )
    return list(rows)


async def mark_email(session: AsyncSession, message_id: uuid.UUID, values: dict[str, Any]) -> None:
    """What came of sending an email (sent, failed, or when to try again)."""
    await session.execute(update(Message).where(Message.id == message_id).values(**values))


async def all_rules(session: AsyncSession, page: PageParams) -> tuple[list[Rule], str | None]:
    return await paginate(session, select(Rule), [Rule.event_type, Rule.code], page)


async def all_templates(
    session: AsyncSession, page: PageParams
) -> tuple[list[Template], str | None]:
    return await paginate(session, select(Template), [Template.key, Template.locale], page)
