"""Publishes committed outbox rows to Kafka, key = aggregate id, in CloudEvents structured mode.

Rows are marked published only after the broker acknowledged them, so a crash or a broker
outage delays events but never loses them (at-least-once; consumers deduplicate by id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer
from sqlalchemy import Text, cast, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import utcnow
from shared.events.envelope import CONTENT_TYPE, EVENT_TYPE_HEADER
from shared.events.kafka import Publisher
from shared.events.outbox import OutboxMessage
from shared.tracing import context_of

log = logging.getLogger(__name__)
NOTIFY_CHANNEL = "outbox"


class OutboxRelay:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        publisher: Publisher,
        *,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
        max_backoff_seconds: float = 30.0,
        listen_dsn: str | None = None,
        on_published: Callable[[int], None] | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.publisher = publisher
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.listen_dsn = listen_dsn
        self.on_published = on_published
        self.tracer = tracer
        self._wake = asyncio.Event()

    async def publish_batch(self) -> int:
        """Publish one batch of unpublished rows; returns how many were published."""
        async with self.sessionmaker() as session:
            # The payload as PostgreSQL's JSON text: published as it is, never parsed here.
            rows = (
                await session.execute(
                    select(
                        OutboxMessage.id,
                        OutboxMessage.topic,
                        OutboxMessage.aggregate_id,
                        OutboxMessage.type,
                        cast(OutboxMessage.payload, Text).label("payload"),
                        OutboxMessage.traceparent,
                        OutboxMessage.tracestate,
                    )
                    .where(OutboxMessage.published_at.is_(None))
                    .order_by(OutboxMessage.seq)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                await session.rollback()
                return 0
            ids = [r.id for r in rows]
            try:
                await self._send(rows)
            except Exception as exc:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids))
                    .values(attempts=OutboxMessage.attempts + 1, last_error=str(exc)[:2000])
                )
                await session.commit()
                await self.publisher.reset()
                raise
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(published_at=utcnow())
            )
            await session.commit()
        if self.on_published:
            self.on_published(len(rows))
        return len(rows)

    async def _send(self, rows: Sequence[Any]) -> None:
        producer = await self.publisher.producer()
        await self.publisher.ensure_topics({r.topic for r in rows})
        spans = [span for r in rows if (span := self._publish_span(r)) is not None]
        try:
            pending = [
                await producer.send(
                    r.topic,
                    value=r.payload.encode(),
                    key=r.aggregate_id.encode(),
                    # Structured mode only: a `ce_` header would make CloudEvents SDKs read the
                    # record in binary mode; the trace context travels in the envelope.
                    headers=[
                        ("content-type", CONTENT_TYPE.encode()),
                        (EVENT_TYPE_HEADER, r.type.encode()),
                    ],
                )
                for r in rows
            ]
            await asyncio.gather(*pending)
        except Exception as exc:
            for span in spans:
                span.record_exception(exc)
                span.set_status(StatusCode.ERROR)
            raise
        finally:
            for span in spans:
                span.end()

    def _publish_span(self, row: Any) -> Span | None:
        """A producer span in the trace of the request that recorded the event, until the
        broker acknowledges it; none for an event recorded outside a trace."""
        parent = context_of(row.traceparent, row.tracestate)
        if self.tracer is None or parent is None:
            return None
        return self.tracer.start_span(
            f"publish {row.topic}",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": row.topic,
                "messaging.kafka.message.key": row.aggregate_id,
                "cloudevents.event_id": str(row.id),
                "cloudevents.event_type": row.type,
            },
        )

    async def drain(self) -> int:
        """Publish until nothing is left; used by tests and by shutdown."""
        total = 0
        while n := await self.publish_batch():
            total += n
        return total

    async def _listen(self) -> None:
        """Wake the relay as soon as a transaction adds outbox rows (trigger sends NOTIFY)."""
        while True:
            try:
                conn = await asyncpg.connect(self.listen_dsn)
                try:
                    await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
                    while not conn.is_closed():
                        await asyncio.sleep(5)
                finally:
                    await conn.close()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("outbox LISTEN connection lost; retrying", exc_info=True)
                await asyncio.sleep(5)

    async def run(self) -> None:
        listener = asyncio.create_task(self._listen()) if self.listen_dsn else None
        failures = 0
        try:
            while True:
                try:
                    published = await self.publish_batch()
                    failures = 0
                except asyncio.CancelledError:
                    raise
                except Exception:
                    failures += 1
                    delay = min(self.max_backoff_seconds, 0.5 * 2**failures)
                    log.warning("outbox relay failed; retrying in %.1fs", delay, exc_info=True)
                    await asyncio.sleep(delay * (0.5 + random.random() / 2))  # noqa: S311
                    continue
                if published < self.batch_size:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
        finally:
            if listener:
                listener.cancel()
