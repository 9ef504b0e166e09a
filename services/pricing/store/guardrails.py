"""Guardrails on price changes, a row per list code (`*`: the default)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.store.governance_models import Guardrail
from shared.clock import utcnow
from shared.db import upsert
from shared.pagination import PageParams, paginate


async def list_exists(session: AsyncSession, code: str) -> bool:
    found = await session.scalar(text("SELECT 1 FROM price_lists WHERE code = :c"), {"c": code})
    return found is not None


async def put(session: AsyncSession, list_code: str, values: dict[str, Any]) -> Guardrail:
    limits = {"list_code": list_code, **values, "updated_at": utcnow()}
    await upsert(session, Guardrail, limits, ("list_code",))
    row = await session.get(Guardrail, list_code, populate_existing=True)
    assert row is not None
    return row


async def every(session: AsyncSession, page: PageParams) -> tuple[list[Guardrail], str | None]:
    return await paginate(session, select(Guardrail), [Guardrail.list_code], page)


async def remove(session: AsyncSession, list_code: str) -> bool:
    removed = await session.execute(delete(Guardrail).where(Guardrail.list_code == list_code))
    return bool(removed.rowcount)  # type: ignore[attr-defined]
