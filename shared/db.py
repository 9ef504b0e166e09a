"""Database kernel: metadata conventions, the engine of a service, one commit per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


class KernelBase(DeclarativeBase):
    """Tables every service database has: outbox, inbox, idempotency keys, feed jobs."""

    metadata = make_metadata()
    type_annotation_map = {datetime: DateTime(timezone=True)}


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        # JIT planning costs more than it saves on short OLTP queries.
        connect_args={"server_settings": {"jit": "off"}},
    )


def create_sessionmaker(engine: AsyncEngine, service: str) -> async_sessionmaker[AsyncSession]:
    # info["service"] becomes the CloudEvents `source` of events recorded in these sessions.
    return async_sessionmaker(
        engine, expire_on_commit=False, autoflush=False, info={"service": service}
    )


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed before the response leaves, rolled back on error.

    Services and repositories only flush; this is the single place that commits, so the
    outbox rows written by a request commit or vanish with its changes.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
        except Exception:
            await session.rollback()
            raise
        else:
            await session.commit()


# scope="function": commit runs when the endpoint returns, before the response is sent, so a
# failed commit becomes an error response instead of a 200 for a change that never happened.
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
