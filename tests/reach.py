"""Helpers of the tests that prove who reaches which client (`shared.scope`), in every service."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import text


async def snapshot(app: FastAPI, *tables: str) -> dict[str, Any]:
    """Every row of these tables (the outbox too, when named), to compare before and after a
    refused call: a refusal changes nothing."""
    found = {}
    async with app.state.sessionmaker() as session:
        for table in tables:
            found[table] = await session.scalar(
                text(
                    f"SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t)::text), "
                    f"'[]'::jsonb) FROM {table} t"
                )
            )
    return found


def refused(answer: Any) -> bool:
    """Out of reach answers as an unknown id does: 404, as a problem."""
    return (
        answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"
    )
