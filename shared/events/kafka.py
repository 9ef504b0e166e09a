"""Thin helpers over aiokafka: a producer that starts lazily and topic creation."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

log = logging.getLogger(__name__)
DEFAULT_PARTITIONS = 3


class Publisher:
    """A producer that survives the broker being away: started on first use, rebuilt on failure."""

    def __init__(self, bootstrap_servers: str, client_id: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._known_topics: set[str] = set()
        self._lock = asyncio.Lock()

    async def producer(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.bootstrap_servers,
                    client_id=self.client_id,
                    acks="all",
                    linger_ms=5,
                    request_timeout_ms=10_000,
                    max_batch_size=1024 * 1024,
                )
                try:
                    await producer.start()
                except Exception:
                    await producer.stop()
                    raise
                self._producer = producer
                self._known_topics.clear()
            return self._producer

    async def ensure_topics(self, topics: set[str]) -> None:
        missing = topics - self._known_topics
        if missing:
            await create_topics(self.bootstrap_servers, missing)
            self._known_topics |= missing

    async def reset(self) -> None:
        """Drop the producer after a failure; the next use connects afresh."""
        async with self._lock:
            producer, self._producer = self._producer, None
            self._known_topics.clear()
        if producer is not None:
            try:
                await producer.stop()
            except Exception:
                log.debug("producer stop failed", exc_info=True)

    async def close(self) -> None:
        await self.reset()


async def create_topics(
    bootstrap_servers: str, topics: set[str] | list[str], partitions: int = DEFAULT_PARTITIONS
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name=t, num_partitions=partitions, replication_factor=1)
            for t in sorted(set(topics) - existing)
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(wanted)
    finally:
        await admin.close()


async def broker_reachable(bootstrap_servers: str, timeout: float = 2.0) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=2_000)
    try:
        await asyncio.wait_for(admin.start(), timeout)
        await asyncio.wait_for(admin.list_topics(), timeout)
        return True
    except Exception:
        return False
    finally:
        try:
            await admin.close()
        except Exception:
            log.debug("admin close failed", exc_info=True)
