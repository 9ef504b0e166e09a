"""Read what really reached the broker, for tests that assert on published events."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.events.kafka import create_topics


async def read_topic(
    bootstrap: str, topic: str, *, expect: int, within: float = 10.0
) -> list[ConsumerRecord]:
    """Every record of `topic` from the beginning; waits until `expect` arrived or time is up."""
    await create_topics(bootstrap, {topic})
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        deadline = time.monotonic() + within
        partitions: set[int] | None = None
        while not partitions and time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                await consumer.client.force_metadata_update()
                await asyncio.sleep(0.1)
        if not partitions:
            return []
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[ConsumerRecord] = []
        while len(records) < expect and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for recs in batch.values():
                records.extend(recs)
        if expect == 0:  # asserting absence: give stragglers a moment to show up
            batch = await consumer.getmany(timeout_ms=500)
            for recs in batch.values():
                records.extend(recs)
        return records
    finally:
        await consumer.stop()


async def skip_backlog(bootstrap: str, group: str, topics: set[str]) -> None:
    """Commit `group`'s offsets at the current end of `topics`: a service a test starts then
    reads only what is published from now on, not every event earlier tests of the session
    left on the broker (which the group, reading from the earliest offset, would wade through
    first). The offsets are committed as a standalone consumer, without joining the group: a
    member that joined and left makes the service's own join wait for it (18 s, not 5)."""
    await create_topics(bootstrap, topics)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    try:
        async with asyncio.timeout(30):
            await consumer.start()
            await consumer.topics()  # the partitions of every topic, for the assignment
            tps = [
                TopicPartition(topic, partition)
                for topic in sorted(topics)
                for partition in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            consumer.assign(tps)
            await consumer.seek_to_end(*tps)
            await consumer.commit({tp: await consumer.position(tp) for tp in tps})
    except TimeoutError as exc:
        raise TimeoutError(f"skip_backlog of {group}: the broker did not answer") from exc
    finally:
        await consumer.stop()
