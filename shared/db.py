"""Database kernel: metadata conventions, the engine of a service, one commit per request."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Any, ClassVar, TypeVar

import asyncpg
from asyncpg.exceptions import (
    CharacterNotInRepertoireError,
    ConnectionDoesNotExistError,
    OperatorInterventionError,
    PostgresConnectionError,
    UntranslatableCharacterError,
)
from fastapi import Depends, FastAPI, Request, Response
from sqlalchemy import DateTime, MetaData, make_url
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from shared.problems import Conflict, problem_response

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


class TableConventions:
    """What every declarative Base of ours has: a MetaData of its own with the naming
    convention above (so migrations name constraints alike) and timezone-aware datetimes.
    A service declares `class Base(TableConventions, DeclarativeBase): pass`."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}

    def __init_subclass__(cls, **kw: Any) -> None:
        # Before DeclarativeBase sets the Base up (it reads `metadata`), not for its models.
        if DeclarativeBase in cls.__bases__ and "metadata" not in cls.__dict__:
            cls.metadata = make_metadata()  # type: ignore[attr-defined]
        super().__init_subclass__(**kw)


class KernelBase(TableConventions, DeclarativeBase):
    """Tables every service database has: outbox, inbox, idempotency keys, feed jobs."""


# A database that does not answer is reported in seconds (503), never waited on for minutes.
CONNECT_TIMEOUT_SECONDS = 5.0
POOL_TIMEOUT_SECONDS = 10.0


class DatabaseUnreachable(ConnectionError):
    """No connection could be made: the server is down, restarting or its socket is gone."""


Row = TypeVar("Row")


async def add_unique(session: AsyncSession, row: Row, taken: str) -> Row:
    """Store a new row whose unique key may be taken already: then a 409 saying `taken`
    (the database decides, so two requests at once cannot both get it)."""
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(taken) from exc
    return row


async def upsert_unless_newer(
    session: AsyncSession,
    model: type[Any],
    values: dict[str, Any] | list[dict[str, Any]],
    key: tuple[str, ...],
    stamp: str = "updated_at",
) -> None:
    """Write projected rows from events (one, or many of distinct keys), unless the stored row
    is newer: events of one thing may arrive out of order, and a late one changes nothing."""
    await upsert(session, model, values, key, where=lambda new: getattr(model, stamp) <= new[stamp])


async def upsert(
    session: AsyncSession,
    model: type[Any],
    values: dict[str, Any] | list[dict[str, Any]],
    key: tuple[str, ...],
    *,
    where: Callable[[Any], Any] | None = None,
) -> None:
    """Insert rows (one, or many of distinct keys), or overwrite the stored ones with that
    `key` in every other column given; with `where` (of the new row's columns), only the
    stored rows it holds for."""
    stmt = insert(model).values(values)
    columns = values[0] if isinstance(values, list) else values
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=list(key),
            set_={k: stmt.excluded[k] for k in columns if k not in key},
            where=None if where is None else where(stmt.excluded),
        )
    )


def create_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def connect() -> asyncpg.Connection:
        try:
            return await asyncpg.connect(
                dsn,
                timeout=CONNECT_TIMEOUT_SECONDS,
                # JIT planning costs more than it saves on short OLTP queries.
                server_settings={"jit": "off"},
            )
        except OSError as exc:  # refused, or the Unix socket gone while the server restarts
            raise DatabaseUnreachable(str(exc)) from exc

    return create_async_engine(
        url,
        async_creator=connect,
        pool_size=pool_size,
        max_overflow=pool_size,
        # No ping on checkout: it is a round trip per transaction. A connection that died with
        # a database restart fails its first statement instead; SQLAlchemy sees a disconnect
        # and drops every pooled connection, that request gets a 503, and the next ones get
        # new connections, so a service still recovers by itself when the database is back.
        pool_timeout=POOL_TIMEOUT_SECONDS,
    )


CONNECTION_LOST = (
    ConnectionError,
    TimeoutError,
    PoolTimeout,
    PostgresConnectionError,
    OperatorInterventionError,  # shutting down, starting up
    ConnectionDoesNotExistError,
)


UNSTORABLE_TEXT = (CharacterNotInRepertoireError, UntranslatableCharacterError)


def _caused_by(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    seen: BaseException | None = exc
    for _ in range(6):  # SQLAlchemy wraps the driver's error, which wraps asyncpg's
        if seen is None:
            return False
        if isinstance(seen, kinds):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def database_unreachable(exc: BaseException) -> bool:
    """The database is down or restarting (not a bad query): the caller should retry."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return _caused_by(exc, CONNECTION_LOST)


def install_database_problems(app: FastAPI) -> None:
    """Requests that meet a database down get 503 with Retry-After, not a 500 or a hang."""

    async def unavailable(request: Request, exc: Exception) -> Response:
        if _caused_by(exc, UNSTORABLE_TEXT):
            # Only a NUL character gets here (the rest of Unicode is stored as sent).
            return problem_response(
                request,
                422,
                slug="validation-error",
                detail="A text value contains the NUL character (\\u0000), which cannot be stored.",
            )
        if not database_unreachable(exc):
            log.exception("unhandled error", exc_info=exc)
            return problem_response(request, 500, slug="internal", detail="Internal error.")
        log.warning("database unreachable: %r", exc)
        return problem_response(
            request,
            503,
            slug="database-unavailable",
            detail="The database is unavailable; try again shortly.",
            headers={"Retry-After": "2"},
        )

    for kind in (DBAPIError, *CONNECTION_LOST):
        app.add_exception_handler(kind, unavailable)


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


async def release(session: AsyncSession) -> None:
    """A read-only request's connection back to the pool before it waits on another service:
    held across the call, slow answers would hold every pooled connection, and the requests
    queued for one would fail when the pool timed out. Nothing must have been written."""
    await session.close()


# scope="function": commit runs when the endpoint returns, before the response is sent, so a
# failed commit becomes an error response instead of a 200 for a change that never happened.
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
