"""Consumer base: each event id has its effect once, poison messages go to a dead-letter topic.

The inbox row and the handler's effect commit in one transaction; the Kafka offset is committed
only after that, so a crash redelivers and the inbox turns the redelivery into a no-op. A
fetched batch is applied in one transaction; when any event of it fails, the batch is applied
again one event at a time, so the failing one alone is retried and dead-lettered.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from opentelemetry.trace import Link, SpanKind, Tracer, get_current_span
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events.envelope import EVENT_TYPE_HEADER, CloudEvent, EventContract
from shared.events.kafka import Publisher, create_topics
from shared.events.outbox import InboxEntry
from shared.tracing import context_of

log = logging.getLogger(__name__)

Handler = Callable[[Any, AsyncSession], Awaitable[None]]


@dataclass(frozen=True)
class Many:
    """A handler that takes, at once, every event of its type that a batch holds in a row
    (`{StockChangedV1: Many(handle_stock_changed)}`), in their order: one set-based statement
    for a hundred stock levels rather than a hundred of them."""

    handler: Callable[[list[Any], AsyncSession], Awaitable[None]]


# A consumer group's handlers by the contract they apply.
Handlers = dict[type[EventContract], Handler | Many]
DLQ_SUFFIX = ".dlq"
# Events applied in one transaction: enough to make a feed's burst cheap, few enough that
# the rows they lock are not held long.
BATCH_SIZE = 100


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

    fetch_max_wait_ms = 100

    def __init__(
        self,
        name: str,
        handlers: Handlers,
        sessionmaker: async_sessionmaker[AsyncSession],
        publisher: Publisher,
        *,
        bootstrap_servers: str,
        retry: RetryPolicy | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.name = name
        self.handlers: dict[str, Handler | Many] = {
            contract.full_type(): handler for contract, handler in handlers.items()
        }
        # Parsed with the contracts given here, not every one the process knows.
        self.contracts = {contract.full_type(): contract for contract in handlers}
        self.topics = sorted({contract.topic for contract in handlers})
        self.sessionmaker = sessionmaker
        self.publisher = publisher
        self.bootstrap_servers = bootstrap_servers
        self.retry = retry or RetryPolicy()
        self.on_outcome = on_outcome
        self.tracer = tracer

    def parse(self, envelope: CloudEvent) -> Any:
        """The event as this consumer applies it, or None to ignore it. Raises ValidationError
        when the payload breaks its contract."""
        contract = self.contracts.get(envelope.type)
        if contract is None:
            return None
        return contract.model_validate(envelope.data)

    async def handle(self, session: AsyncSession, envelope: CloudEvent, event: Any) -> None:
        """One new event's effect, inside the transaction that records it in the inbox."""
        handler = self.handlers[envelope.type]
        assert not isinstance(handler, Many)  # handle_all gives those their runs
        await handler(event, session)

    async def handle_all(self, session: AsyncSession, new: list[tuple[CloudEvent, Any]]) -> None:
        """New events' effects in their order; a `Many` handler takes its run in one call."""
        first = True
        for type_, run in itertools.groupby(new, key=lambda pair: pair[0].type):
            handler = self.handlers.get(type_)
            pairs = list(run)
            calls = [pairs] if isinstance(handler, Many) else [[pair] for pair in pairs]
            for call in calls:
                if not first:
                    # Each call sees the rows as the calls before it left them, as it would
                    # in a transaction of its own, not objects they loaded.
                    await session.flush()
                    session.expunge_all()
                first = False
                with self._span(type_, [envelope for envelope, _ in call]):
                    if isinstance(handler, Many):
                        await handler.handler([event for _, event in call], session)
                    else:
                        await self.handle(session, *call[0])

    def _span(self, event_type: str, envelopes: list[CloudEvent]) -> AbstractContextManager[Any]:
        """The span of applying events: a child of the trace the event was recorded in (its
        `traceparent`); a run of several from different traces, linked to each of theirs."""
        contexts = [context_of(e.traceparent, e.tracestate) for e in envelopes]
        traced = [c for c in contexts if c is not None]
        if self.tracer is None or not traced:
            return contextlib.nullcontext()
        parent = traced[0] if len({e.traceparent for e in envelopes}) == 1 else None
        links = [] if parent else [Link(get_current_span(c).get_span_context()) for c in traced]
        return self.tracer.start_as_current_span(
            f"process {event_type}",
            context=parent,
            kind=SpanKind.CONSUMER,
            links=links,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.consumer.group.name": self.name,
                "messaging.batch.message_count": len(envelopes),
                "cloudevents.event_type": event_type,
                "cloudevents.event_id": [str(e.id) for e in envelopes],
            },
        )

    async def before_commit(self, session: AsyncSession) -> None:
        """What the events of one transaction leave to do together (a subclass's batch)."""

    def after_commit(self, info: dict[str, Any]) -> None:
        """Told the session's `info` once the transaction that applied events committed."""

    async def apply(self, envelope: CloudEvent) -> Outcome:
        """Apply one event exactly once; a test can call this without a broker."""
        return (await self.apply_all([envelope]))[0]

    async def apply_all(self, envelopes: list[CloudEvent]) -> list[Outcome]:
        """Apply events in one transaction: one inbox statement and one commit for all of them,
        which is what keeps a consumer up with a feed's thousand events a second. Any failure
        rolls all of them back."""
        events = [self.parse(envelope) for envelope in envelopes]
        wanted = [e for e, event in zip(envelopes, events, strict=True) if event is not None]
        if not wanted:
            return [Outcome.IGNORED] * len(envelopes)
        outcomes: list[Outcome] = []
        async with self.sessionmaker() as session, session.begin():
            info = session.info
            new = set(
                await session.scalars(
                    insert(InboxEntry)
                    .values(
                        [
                            {"consumer": self.name, "event_id": e.id, "event_type": e.type}
                            for e in wanted
                        ]
                    )
                    .on_conflict_do_nothing()
                    .returning(InboxEntry.event_id)
                )
            )
            applied: list[tuple[CloudEvent, Any]] = []
            for envelope, event in zip(envelopes, events, strict=True):
                if event is None:
                    outcomes.append(Outcome.IGNORED)
                elif envelope.id not in new:
                    outcomes.append(Outcome.DUPLICATE)
                else:
                    new.discard(envelope.id)  # the same event twice in one batch: once
                    applied.append((envelope, event))
                    outcomes.append(Outcome.APPLIED)
            await self.handle_all(session, applied)
            await self.before_commit(session)
        if Outcome.APPLIED in outcomes:
            self.after_commit(info)
        return outcomes

    def handles(self, event_type: str) -> bool:
        """Whether this consumer applies events of this type (a subclass taking every type of
        its topics says so here)."""
        return event_type in self.handlers

    def skips(self, record: ConsumerRecord) -> bool:
        """A record whose header names a type this consumer does not handle: ignored without
        parsing it (a 200-line `order.placed` costs far more to parse than to skip)."""
        for name, value in record.headers or ():
            if name == EVENT_TYPE_HEADER:
                return not self.handles(value.decode("latin-1"))
        return False

    async def apply_batch(self, records: list[ConsumerRecord]) -> list[Outcome] | None:
        """A fetched batch in one transaction; None when any of it fails, and the caller
        applies the records one by one (retries, dead letters), so one bad event never holds
        up or undoes the others."""
        wanted = [r for r in records if not self.skips(r)]
        try:
            envelopes = [CloudEvent.model_validate_json(r.value) for r in wanted]
            applied = iter(await self.apply_all(envelopes) if envelopes else [])
        except Exception:
            log.info("a batch of %d failed; applying one by one", len(records), exc_info=True)
            return None
        return [Outcome.IGNORED if self.skips(r) else next(applied) for r in records]

    async def process(self, record: ConsumerRecord) -> Outcome:
        """Parse, apply with retries, and dead-letter what still fails."""
        if self.skips(record):
            return Outcome.IGNORED
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
                # How long the broker may sit on a fetch with nothing new: the most an event
                # can wait before a consumer sees it.
                fetch_max_wait_ms=self.fetch_max_wait_ms,
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
                        for start in range(0, len(records), BATCH_SIZE):
                            chunk = records[start : start + BATCH_SIZE]
                            outcomes = await self.apply_batch(chunk) if len(chunk) > 1 else None
                            if outcomes is None:
                                outcomes = [await self.process(record) for record in chunk]
                            if self.on_outcome:
                                for outcome in outcomes:
                                    self.on_outcome(outcome)
                            await consumer.commit({tp: chunk[-1].offset + 1})
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


def consumer_groups(module: Any, suffix: str = "") -> dict[str, set[str]]:
    """The consumer groups a service's app runs and their topics: the kernel's per-contract
    groups of its SPEC, or what the service declares itself (`CONSUMER_GROUPS`)."""
    if hasattr(module, "CONSUMER_GROUPS"):
        return {f"{name}{suffix}": set(topics) for name, topics in module.CONSUMER_GROUPS.items()}
    return {
        f"{module.SPEC.name}.{group}{suffix}": {contract.topic for contract in handlers}
        for group, handlers in module.SPEC.consumers.items()
    }
