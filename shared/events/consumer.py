"""Consumer base: each event id has its effect once, poison messages go to a dead-letter topic.

The inbox row and the handler's effect commit in one transaction; the Kafka offset is committed
only after that, so a crash redelivers and the inbox turns the redelivery into a no-op.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events.envelope import CloudEvent, EventContract, contract_for
from shared.events.kafka import Publisher, create_topics
from shared.events.outbox import InboxEntry

log = logging.getLogger(__name__)

Handler = Callable[[Any, AsyncSession], Awaitable[None]]
DLQ_SUFFIX = ".dlq"


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    DEAD_LETTERED = "dead_lettered"


@dataclass
class RetryPolicy:
    attempts: int = 5
    base_seconds: float = 0.2
    max_seconds: float = 30.0

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        return random.uniform(0, min(self.max_seconds, self.base_seconds * 2**attempt))  # noqa: S311


class EventConsumer:
    """Consumes `topics` as consumer group `name`, dispatching on the CloudEvents `type`."""

    def __init__(
        self,
        name: str,
        handlers: dict[type[EventContract], Handler],
        sessionmaker: async_sessionmaker[AsyncSession],
        publisher: Publisher,
        *,
        bootstrap_servers: str,
        retry: RetryPolicy | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.name = name
        self.handlers = {contract.full_type(): handler for contract, handler in handlers.items()}
        self.topics = sorted({contract.topic for contract in handlers})
        self.sessionmaker = sessionmaker
        self.publisher = publisher
        self.bootstrap_servers = bootstrap_servers
        self.retry = retry or RetryPolicy()
        self.on_outcome = on_outcome

    async def apply(self, envelope: CloudEvent) -> Outcome:
        """Apply one event exactly once; a test can call this without a broker."""
        handler = self.handlers.get(envelope.type)
        contract = contract_for(envelope.type)
        if handler is None or contract is None:
            return Outcome.IGNORED
        event = contract.model_validate(envelope.data)
        async with self.sessionmaker() as session, session.begin():
            inserted = await session.scalar(
                insert(InboxEntry)
                .values(consumer=self.name, event_id=envelope.id, event_type=envelope.type)
                .on_conflict_do_nothing()
                .returning(InboxEntry.event_id)
            )
            if inserted is None:
                return Outcome.DUPLICATE
            await handler(event, session)
        return Outcome.APPLIED

    async def process(self, record: ConsumerRecord) -> Outcome:
        """Parse, apply with retries, and dead-letter what still fails."""
        error: Exception | None = None
        try:
            envelope = CloudEvent.model_validate_json(record.value)
        except Exception as exc:
            envelope, error = None, exc
        if envelope is not None:
            for attempt in range(self.retry.attempts):
                try:
                    return await self.apply(envelope)
                except ValidationError as exc:
                    error = exc  # a payload that breaks its contract never gets better
                    log.warning(
                        "event breaks its contract",
                        extra={"event_id": str(envelope.id), "event_type": envelope.type},
                        exc_info=True,
                    )
                    break
                except Exception as exc:
                    error = exc
                    log.warning(
                        "handler failed (attempt %d/%d)",
                        attempt + 1,
                        self.retry.attempts,
                        extra={"event_id": str(envelope.id), "event_type": envelope.type},
                        exc_info=True,
                    )
                    if attempt + 1 < self.retry.attempts:
                        await asyncio.sleep(self.retry.delay(attempt))
        await self.dead_letter(record, error)
        return Outcome.DEAD_LETTERED

    async def dead_letter(self, record: ConsumerRecord, error: Exception | None) -> None:
        topic = record.topic + DLQ_SUFFIX
        producer = await self.publisher.producer()
        await self.publisher.ensure_topics({topic})
        headers = [
            *list(record.headers or []),
            ("dlq_consumer", self.name.encode()),
            ("dlq_error", repr(error)[:4000].encode()),
            ("dlq_source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        await producer.send_and_wait(topic, value=record.value, key=record.key, headers=headers)

    async def run(self, ready: asyncio.Event | None = None) -> None:
        """Consume until cancelled, reconnecting with backoff when the broker goes away."""
        failures = 0
        while True:
            consumer = AIOKafkaConsumer(
                *self.topics,
                bootstrap_servers=self.bootstrap_servers,
                group_id=self.name,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                metadata_max_age_ms=5_000,
            )
            try:
                await create_topics(self.bootstrap_servers, set(self.topics))
                await consumer.start()
                failures = 0
                if ready is not None:
                    ready.set()
                while True:
                    batch = await consumer.getmany(timeout_ms=500, max_records=500)
                    for tp, records in batch.items():
                        for record in records:
                            outcome = await self.process(record)
                            if self.on_outcome:
                                self.on_outcome(outcome)
                        await consumer.commit({tp: records[-1].offset + 1})
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                delay = min(30.0, 0.5 * 2**failures)
                log.warning(
                    "consumer %s lost the broker; retry in %.1fs", self.name, delay, exc_info=True
                )
                await asyncio.sleep(delay)
            finally:
                try:
                    await consumer.stop()
                except Exception:
                    log.debug("consumer stop failed", exc_info=True)
