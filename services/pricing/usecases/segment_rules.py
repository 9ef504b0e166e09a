"""Segment rules: added (naming an assignable list, or a discount) and removed with every
assignment they made; analytics' `client.segment_changed` applies them (events.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.store import policy as policy_store
from services.pricing.store import segments as store
from services.pricing.store.governance_models import SegmentRule
from services.pricing.usecases.changes import announce
from shared.problems import Conflict, NotFound, Unprocessable


async def add_rule(
    session: AsyncSession, fields: dict[str, Any], price_list_code: str | None
) -> SegmentRule:
    """A new rule; its code is unique, its list one a client may be assigned."""
    if await store.rule(session, fields["code"]) is not None:
        raise Conflict(f"A segment rule {fields['code']!r} exists.")
    list_id = None
    if price_list_code is not None:
        try:
            [list_id] = await policy_store.assignable_lists(session, [price_list_code])
        except Unprocessable as bad:
            raise policy_store.invalid("price_list_code", bad.errors[0].message) from bad
    rule = SegmentRule(**fields, list_id=list_id)
    session.add(rule)
    await session.flush()
    return rule


async def remove_rule(session: AsyncSession, code: str) -> None:
    """The rule and its assignments go; caches hear a price.changed."""
    rule = await store.rule(session, code)
    if rule is None:
        raise NotFound("No such segment rule.")
    await session.delete(rule)
    await session.flush()
    announce(session, "segment_rule.deleted", policy=True, rows=1)
