"""The checks of a feed's staged rows against the database, each one query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.feeds.spec import DatabaseCheck


def staged_check(query: str, **values: Any) -> DatabaseCheck:
    """A check whose `query` selects (row, field, reason) of each bad staged row; `{staging}`
    in it names the staging table, the other `{names}` take `values`."""

    async def check(session: AsyncSession, staging: str) -> list[tuple[int, str, str]]:
        rows = await session.execute(text(query.format(staging=staging, **values)))
        return [(r[0], r[1], r[2]) for r in rows.all()]

    return check
