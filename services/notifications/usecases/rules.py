"""Rules, managed by admins: built-in ones may be changed or disabled, never deleted. A change
clears this process's rule cache once it commits (other processes see it within the cache's
time to live)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.domain import rules as domain
from services.notifications.store import messages as store
from services.notifications.store.models import Rule
from shared.clock import utcnow
from shared.db import add_unique
from shared.pagination import PageParams
from shared.problems import Conflict, FieldError, NotFound, Unprocessable

COLUMNS = [c.key for c in Rule.__table__.columns]


def _on_commit_forget(session: AsyncSession, cache: store.RuleCache) -> None:
    event.listen(session.sync_session, "after_commit", lambda _: cache.clear(), once=True)


async def _validated(session: AsyncSession, values: dict[str, Any]) -> None:
    """The rule must make sense as plain rules and name a template that exists."""
    try:
        domain.rule_from_row({"code": "check", **values})
    except (domain.RuleError, TypeError) as exc:
        raise Unprocessable(str(exc)) from exc
    if not await store.templates_of(session, values["template"]):
        raise Unprocessable(
            "No such template.",
            errors=[FieldError(field="template", message="no template with this key")],
        )


async def list_rules(session: AsyncSession, page: PageParams) -> tuple[list[Rule], str | None]:
    return await store.all_rules(session, page)


async def get_rule(session: AsyncSession, rule_id: uuid.UUID) -> Rule:
    rule = await session.get(Rule, rule_id, with_for_update=True)
    if rule is None:
        raise NotFound("No such rule.")
    return rule


async def create_rule(
    session: AsyncSession, cache: store.RuleCache, values: dict[str, Any]
) -> Rule:
    """An own rule (`values` as JSON); a code taken is a conflict."""
    _on_commit_forget(session, cache)
    await _validated(session, values)
    return await add_unique(session, Rule(**values, builtin=False), "A rule with this code exists.")


async def update_rule(
    session: AsyncSession, cache: store.RuleCache, rule_id: uuid.UUID, changes: dict[str, Any]
) -> Rule:
    """Change the fields given; the rule they make must still be valid."""
    _on_commit_forget(session, cache)
    rule = await get_rule(session, rule_id)
    merged = {**{c: getattr(rule, c) for c in COLUMNS}, **changes}
    await _validated(session, merged)
    for key, value in changes.items():
        setattr(rule, key, value)
    rule.updated_at = utcnow()
    await session.flush()
    return rule


async def delete_rule(session: AsyncSession, cache: store.RuleCache, rule_id: uuid.UUID) -> None:
    _on_commit_forget(session, cache)
    rule = await get_rule(session, rule_id)
    if rule.builtin:
        raise Conflict("A built-in rule cannot be deleted; disable it instead.")
    await session.delete(rule)
