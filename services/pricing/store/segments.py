"""Segment rules and what they assigned: every query of segment-driven policy."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.domain import segments as rules_domain
from services.pricing.store.governance_models import ClientSegment, SegmentAssignment, SegmentRule
from shared.clock import utcnow
from shared.pagination import EVERY, PageParams, paginate


def as_rule(row: SegmentRule) -> rules_domain.Rule:
    return rules_domain.Rule(
        id=row.id,
        code=row.code,
        conditions=dict(row.conditions),
        duration_days=row.duration_days,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


async def rules(session: AsyncSession, page: PageParams) -> tuple[list[SegmentRule], str | None]:
    return await paginate(session, select(SegmentRule), [SegmentRule.code], page)


async def reassign(session: AsyncSession, client_id: int, today: date) -> bool:
    """Bring the client's segment assignments in line with its segments; True if any changed."""
    segments = {
        r.dimension: r.value
        for r in await session.scalars(
            select(ClientSegment).where(ClientSegment.client_id == client_id)
        )
    }
    current = {
        r.rule_id: r.valid_to
        for r in await session.scalars(
            select(SegmentAssignment)
            .where(SegmentAssignment.client_id == client_id)
            .with_for_update()
        )
    }
    add, end = rules_domain.reassign(
        [as_rule(r) for r in (await rules(session, EVERY))[0]], segments, current, today
    )
    if end:
        await session.execute(
            delete(SegmentAssignment).where(
                SegmentAssignment.client_id == client_id, SegmentAssignment.rule_id.in_(end)
            )
        )
    if add:
        stmt = insert(SegmentAssignment).values(
            [
                {
                    "client_id": client_id,
                    "rule_id": a.rule.id,
                    "segments": a.segments,
                    "assigned_at": utcnow(),
                    "valid_to": a.valid_to,
                }
                for a in add
            ]
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[SegmentAssignment.client_id, SegmentAssignment.rule_id],
                set_={k: stmt.excluded[k] for k in ("segments", "assigned_at", "valid_to")},
            )
        )
    return bool(add or end)


async def rule(session: AsyncSession, code: str) -> SegmentRule | None:
    return await session.scalar(select(SegmentRule).where(SegmentRule.code == code))
