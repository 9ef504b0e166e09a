"""Transactional outbox (Debezium's columns) and the inbox consumers record applied events in."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import BigInteger, Dialect, Identity, Index, String, Text, TypeDecorator, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import utcnow
from shared.db import KernelBase
from shared.events.envelope import CloudEvent, EventContract
from shared.tracing import current_context


class JsonPayload(TypeDecorator[dict[str, Any]]):
    """JSONB written with orjson: an outbox row holds a whole event, a 200-line order's too."""

    impl = JSONB
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], str | None]:
        def serialise(value: Any) -> str | None:
            return None if value is None else orjson.dumps(value).decode()

        return serialise


class OutboxMessage(KernelBase):
    __tablename__ = "outbox"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # Commit order, so the relay publishes one aggregate's events in the order they happened.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    aggregate_type: Mapped[str] = mapped_column(String(64))
    aggregate_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonPayload)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    published_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    # The W3C trace context the event was recorded in, also on its envelope: the relay's
    # publish span continues it without parsing the payload.
    traceparent: Mapped[str | None] = mapped_column(String(55))
    tracestate: Mapped[str | None] = mapped_column(String(512))

    __table_args__ = (
        Index("ix_outbox_unpublished", "seq", postgresql_where=text("published_at IS NULL")),
    )


class InboxEntry(KernelBase):
    """One row per (consumer, event id) applied; written in the same transaction as the effect."""

    __tablename__ = "inbox"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    event_type: Mapped[str] = mapped_column(String(200))
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


def record_event(session: AsyncSession, event: EventContract) -> CloudEvent:
    """Add the event to the outbox in the caller's transaction; it is published after commit."""
    envelope, row = _outbox_row(event, session.info.get("service", "unknown"), current_context())
    session.add(OutboxMessage(**row))
    return envelope


def outbox_rows(events: list[EventContract], service: str) -> list[dict[str, Any]]:
    """Outbox rows for a bulk insert, for feeds that emit thousands of events in one statement."""
    trace = current_context()
    return [_outbox_row(event, service, trace)[1] for event in events]


def _outbox_row(
    event: EventContract, service: str, trace: dict[str, str]
) -> tuple[CloudEvent, dict[str, Any]]:
    """The event's envelope and outbox row, with the trace context it is recorded in (if any)."""
    envelope = CloudEvent(
        source=f"/b2b/{service}",
        type=event.full_type(),
        subject=event.aggregate_id(),
        data=event.model_dump(mode="json"),
        traceparent=trace.get("traceparent"),
        tracestate=trace.get("tracestate"),
    )
    return envelope, {
        "id": envelope.id,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id(),
        "type": envelope.type,
        "topic": event.topic,
        "payload": orjson.loads(envelope.model_dump_json()),
        "traceparent": envelope.traceparent,
        "tracestate": envelope.tracestate,
    }


async def record_events_from_query(
    session: AsyncSession,
    contract: type[EventContract],
    query: str,
    params: dict[str, Any] | None = None,
) -> int:
    """Write one event per row of `query` (columns aggregate_id, data) in one statement.

    For feeds that change thousands of aggregates: the events are built in SQL, in the
    feed's transaction, without a Python loop. `data` must be the contract's JSON shape; the
    contract tests parse such payloads with the contract class. `:now` is the clock's time,
    for `query` too.
    """
    source = f"/b2b/{session.info.get('service', 'unknown')}"
    trace = current_context()
    result = await session.execute(
        text(
            f"""
            INSERT INTO outbox (id, aggregate_type, aggregate_id, type, topic, payload,
                                traceparent, tracestate)
            SELECT e.id, CAST(:aggregate_type AS text), e.aggregate_id, CAST(:type AS text),
                   CAST(:topic AS text),
                   jsonb_build_object(
                       'specversion', '1.0', 'id', e.id, 'source', CAST(:source AS text),
                       'type', CAST(:type AS text),
                       'subject', e.aggregate_id, 'time', CAST(:now AS timestamptz),
                       'datacontenttype', 'application/json', 'data', e.data)
                   || CAST(:trace AS jsonb),
                   CAST(:traceparent AS text), CAST(:tracestate AS text)
            FROM (SELECT gen_random_uuid() AS id, q.aggregate_id::text AS aggregate_id, q.data
                  FROM ({query}) AS q) AS e
            """
        ),
        {
            **(params or {}),
            "aggregate_type": contract.aggregate_type,
            "type": contract.full_type(),
            "topic": contract.topic,
            "source": source,
            "now": utcnow(),
            "trace": orjson.dumps(trace).decode(),
            "traceparent": trace.get("traceparent"),
            "tracestate": trace.get("tracestate"),
        },
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
