"""Outbox, relay and consumer guarantees, against the real PostgreSQL and a real broker."""

from __future__ import annotations

import asyncio
import uuid

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select, text

from services.notifications import events as notifications_events
from shared.app import asyncpg_dsn
from shared.auth import Role
from shared.db import create_engine, create_sessionmaker
from shared.events.consumer import EventConsumer, Outcome, RetryPolicy
from shared.events.envelope import CloudEvent, all_contracts
from shared.events.kafka import Publisher
from shared.events.outbox import OutboxMessage, record_event
from shared.events.relay import OutboxRelay
from shared.runtime import EmbeddedBroker, free_port
from shared.testing.fixtures import as_role, client, running
from shared.testing.kafka import read_topic
from tests.events import envelope as envelope_of
from tests.kernel.widgets import (
    WidgetCreatedV1,
    create_widget_tables,
    publish_raw,
    record_effect,
    send_record,
    widget_app,
)

TOPIC = WidgetCreatedV1.topic


@pytest.fixture
async def catalog_db(service_settings, database_urls):
    settings = service_settings("catalog")  # registers the database for cleanup
    await create_widget_tables(asyncpg_dsn(database_urls["catalog"]))
    engine = create_engine(settings.database_url, pool_size=2)
    yield settings, create_sessionmaker(engine, service="catalog")
    await engine.dispose()


def _consumer(sessionmaker, bootstrap: str, name: str, handlers, kind=EventConsumer, **options):
    """A consumer of the widget topic with a publisher of its own (for its dead letters)."""
    return kind(
        name,
        handlers,
        sessionmaker,
        Publisher(bootstrap, "test"),
        bootstrap_servers=bootstrap,
        **options,
    )


async def _drain(sessionmaker, bootstrap: str) -> int:
    """One pass of the relay with a publisher of its own: how many events it sent."""
    publisher = Publisher(bootstrap, "test")
    try:
        return await OutboxRelay(sessionmaker, publisher).drain()
    finally:
        await publisher.close()


async def _parked(bootstrap: str, widget: uuid.UUID) -> list:
    """The widget's records in the dead-letter topic (other tests park theirs there too)."""
    records = await read_topic(bootstrap, TOPIC + ".dlq", expect=1)
    return [r for r in records if r.key == str(widget).encode()]


async def count(sessionmaker, stmt) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(stmt) or 0)


def test_a_tests_own_contract_never_joins_the_products_events():
    """The widget is handed to the consumers of these tests, never registered: so no service
    subscribes to its topic (notifications takes every registered topic) and the AsyncAPI
    document and webhook types never list it, whichever tests ran or were imported first."""
    foreign = [
        event_type
        for event_type, contract in all_contracts().items()
        if not contract.__module__.startswith("shared.contracts.")
    ]
    assert foreign == []
    assert TOPIC not in notifications_events.topics()


async def test_rolled_back_transaction_publishes_nothing(catalog_db, kafka_bootstrap):
    _, sessionmaker = catalog_db
    widget = uuid.uuid4()
    async with sessionmaker() as session:
        record_event(session, WidgetCreatedV1(widget_id=widget, name="ghost"))
        await session.flush()
        await session.rollback()
    assert await _drain(sessionmaker, kafka_bootstrap) == 0
    assert await count(sessionmaker, select(func.count()).select_from(OutboxMessage)) == 0
    records = await read_topic(kafka_bootstrap, TOPIC, expect=0, within=1)
    assert str(widget).encode() not in [r.key for r in records]


async def test_failed_request_leaves_no_row_and_no_event(start_app, catalog_db):
    _, sessionmaker = catalog_db
    app = await start_app("catalog")
    app = widget_app(app.state.settings)
    async with running(app), client(app, as_role(Role.ADMIN)) as http:
        ok = await http.post("/widgets", json={"name": "kept"})
        failed = await http.post("/widgets", json={"name": "lost", "fail_after_write": True})
    assert ok.status_code == 201
    assert failed.status_code == 409
    assert failed.headers["content-type"] == "application/problem+json"
    names = await count(sessionmaker, text("SELECT count(*) FROM widgets WHERE name = 'lost'"))
    events = await count(sessionmaker, select(func.count()).select_from(OutboxMessage))
    assert names == 0
    assert events == 1  # only the committed widget's event


async def test_relay_publishes_with_aggregate_key_in_structured_mode(catalog_db, kafka_bootstrap):
    _, sessionmaker = catalog_db
    widget = uuid.uuid4()
    async with sessionmaker() as session:
        envelope = record_event(session, WidgetCreatedV1(widget_id=widget, name="w1"))
        await session.commit()
    assert await _drain(sessionmaker, kafka_bootstrap) == 1
    records = [
        r
        for r in await read_topic(kafka_bootstrap, TOPIC, expect=1)
        if r.key == str(widget).encode()
    ]
    assert len(records) == 1
    # CloudEvents structured mode: the envelope is the value, no `ce_` header; the type is
    # repeated in a header of its own, for consumers to skip without parsing.
    assert records[0].headers == (
        ("content-type", b"application/cloudevents+json"),
        ("event-type", b"com.b2b.test.widget.created.v1"),
    )
    event = CloudEvent.model_validate_json(records[0].value)
    assert event.id == envelope.id
    assert event.type == "com.b2b.test.widget.created.v1"
    assert event.source == "/b2b/catalog"
    assert event.data["name"] == "w1"
    unpublished = select(func.count()).where(OutboxMessage.published_at.is_(None))
    assert await count(sessionmaker, unpublished) == 0


async def test_event_committed_while_broker_is_down_is_delivered_when_it_is_back(catalog_db):
    _, sessionmaker = catalog_db
    broker = EmbeddedBroker(free_port())
    broker.start()
    publisher = Publisher(broker.bootstrap, "test")
    relay = OutboxRelay(sessionmaker, publisher, batch_size=10)
    try:
        broker.stop()
        widget = uuid.uuid4()
        async with sessionmaker() as session:
            record_event(session, WidgetCreatedV1(widget_id=widget, name="patient"))
            await session.commit()
        with pytest.raises(Exception):  # noqa: B017 - any broker error will do
            await asyncio.wait_for(relay.publish_batch(), 30)
        row = await count(
            sessionmaker,
            select(OutboxMessage.attempts).where(OutboxMessage.aggregate_id == str(widget)),
        )
        assert row == 1  # still in the outbox, one failed attempt recorded

        broker.start()  # a fresh, empty broker on the same address
        assert await relay.drain() == 1
        records = await read_topic(broker.bootstrap, TOPIC, expect=1)
        assert [r.key for r in records] == [str(widget).encode()]
    finally:
        await publisher.close()
        broker.stop()


async def test_redelivered_event_has_no_second_effect(catalog_db, kafka_bootstrap):
    _, sessionmaker = catalog_db
    consumer = _consumer(
        sessionmaker,
        kafka_bootstrap,
        f"test-effects-{uuid.uuid4().hex[:8]}",
        {WidgetCreatedV1: record_effect},
    )
    publisher = consumer.publisher
    widget = uuid.uuid4()
    async with sessionmaker() as session:
        envelope = record_event(session, WidgetCreatedV1(widget_id=widget, name="once"))
        await session.commit()
    # The same event reaches the topic twice, as after a relay crash before marking it sent.
    await OutboxRelay(sessionmaker, publisher).drain()
    await publish_raw(kafka_bootstrap, envelope)
    outcomes: list[Outcome] = []
    consumer.on_outcome = outcomes.append
    task = asyncio.create_task(consumer.run())
    try:
        async with asyncio.timeout(20):
            # The topic may also hold other tests' widgets (the group reads from the start), so
            # wait for the duplicate itself rather than for a count of outcomes.
            while Outcome.DUPLICATE not in outcomes:
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await publisher.close()
    assert Outcome.APPLIED in outcomes and Outcome.DUPLICATE in outcomes
    effects = text("SELECT count(*) FROM widget_effects WHERE widget_id = :w").bindparams(w=widget)
    assert await count(sessionmaker, effects) == 1


async def test_poison_message_is_parked_in_dead_letter_topic_with_its_error(
    catalog_db, kafka_bootstrap
):
    _, sessionmaker = catalog_db
    attempts = 0

    async def always_fails(event: WidgetCreatedV1, session) -> None:
        nonlocal attempts
        attempts += 1
        await record_effect(event, session)  # written, then rolled back with the failure
        raise ValueError("cannot handle this widget")

    consumer = _consumer(
        sessionmaker,
        kafka_bootstrap,
        "test-poison",
        {WidgetCreatedV1: always_fails},
        retry=RetryPolicy(attempts=3, base_seconds=0.01),
    )
    envelope = _widget_envelope("poison")
    widget = uuid.UUID(envelope.subject)
    record = await publish_raw(kafka_bootstrap, envelope)
    try:
        outcome = await consumer.process(record)
    finally:
        await consumer.publisher.close()
    assert outcome == Outcome.DEAD_LETTERED
    assert attempts == 3
    parked = await _parked(kafka_bootstrap, widget)
    assert len(parked) == 1
    assert b"cannot handle this widget" in dict(parked[0].headers)["dlq_error"]
    effects = text("SELECT count(*) FROM widget_effects WHERE widget_id = :w").bindparams(w=widget)
    assert await count(sessionmaker, effects) == 0


async def test_unparseable_message_goes_to_dead_letter_topic(catalog_db, kafka_bootstrap):
    _, sessionmaker = catalog_db
    consumer = _consumer(
        sessionmaker, kafka_bootstrap, "test-garbage", {WidgetCreatedV1: record_effect}
    )
    key = uuid.uuid4().hex.encode()
    record = await send_record(kafka_bootstrap, TOPIC, b"{not json", key)
    try:
        assert await consumer.process(record) == Outcome.DEAD_LETTERED
    finally:
        await consumer.publisher.close()
    parked = await read_topic(kafka_bootstrap, TOPIC + ".dlq", expect=2)
    assert key in [r.key for r in parked]


async def test_a_type_the_consumer_does_not_handle_is_skipped_unread(catalog_db, kafka_bootstrap):
    _, sessionmaker = catalog_db
    consumer = _consumer(
        sessionmaker, kafka_bootstrap, "test-skip", {WidgetCreatedV1: record_effect}
    )
    other = (("event-type", b"com.b2b.test.widget.painted.v1"),)
    mine = (("event-type", WidgetCreatedV1.full_type().encode()),)
    skipped = await send_record(kafka_bootstrap, TOPIC, b"{not json", b"k1", other)
    broken = await send_record(kafka_bootstrap, TOPIC, b"{not json", b"k2", mine)
    try:
        # Never parsed: had it been, its value would have sent it to the dead letters.
        assert await consumer.process(skipped) == Outcome.IGNORED
        assert await consumer.apply_batch([skipped, skipped]) == [Outcome.IGNORED] * 2
        assert await consumer.apply_batch([skipped, broken]) is None  # its own type is read
        assert await consumer.process(broken) == Outcome.DEAD_LETTERED
    finally:
        await consumer.publisher.close()


async def test_an_event_breaking_its_contract_is_parked_at_once(catalog_db, kafka_bootstrap):
    # A payload that fails validation fails the same way every time: retrying it only holds
    # up the events behind it.
    _, sessionmaker = catalog_db
    consumer = _consumer(
        sessionmaker,
        kafka_bootstrap,
        "test-contract",
        {WidgetCreatedV1: record_effect},
        retry=RetryPolicy(attempts=5, base_seconds=30),
    )  # a retry would time the test out
    widget = uuid.uuid4()
    envelope = CloudEvent(
        source="/b2b/test",
        type=WidgetCreatedV1.full_type(),
        subject=str(widget),
        data={"widget_id": str(widget)},  # no name
    )
    record = await publish_raw(kafka_bootstrap, envelope)
    try:
        async with asyncio.timeout(20):
            assert await consumer.process(record) == Outcome.DEAD_LETTERED
    finally:
        await consumer.publisher.close()
    parked = await _parked(kafka_bootstrap, widget)
    assert len(parked) == 1
    assert b"name" in dict(parked[0].headers)["dlq_error"]


def _widget_envelope(name: str) -> CloudEvent:
    return envelope_of(WidgetCreatedV1(widget_id=uuid.uuid4(), name=name))


async def _effects(sessionmaker, envelopes: list[CloudEvent]) -> list[int]:
    """Effects per event, in the events' order."""
    async with sessionmaker() as session:
        rows = dict(
            (
                await session.execute(
                    text(
                        "SELECT widget_id::text, count(*) FROM widget_effects"
                        " WHERE widget_id::text = ANY(:ids) GROUP BY widget_id"
                    ),
                    {"ids": [e.subject for e in envelopes]},
                )
            ).all()
        )
    return [rows.get(e.subject, 0) for e in envelopes]


async def test_events_applied_together_commit_once_and_a_repeat_is_a_duplicate(
    catalog_db, kafka_bootstrap
):
    _, sessionmaker = catalog_db
    commits = 0

    class Counting(EventConsumer):
        def after_commit(self, info) -> None:
            nonlocal commits
            commits += 1

    consumer = _consumer(
        sessionmaker,
        kafka_bootstrap,
        f"test-batch-{uuid.uuid4().hex[:8]}",
        {WidgetCreatedV1: record_effect},
        kind=Counting,
    )
    envelopes = [_widget_envelope(f"batch {n}") for n in range(50)]
    try:
        first = await consumer.apply_all([*envelopes, envelopes[7]])
        again = await consumer.apply_all(envelopes[:3])
    finally:
        await consumer.publisher.close()
    assert first == [Outcome.APPLIED] * 50 + [Outcome.DUPLICATE]
    assert again == [Outcome.DUPLICATE] * 3
    assert commits == 1  # the second call applied nothing
    assert await _effects(sessionmaker, envelopes) == [1] * 50


async def test_one_failing_event_leaves_the_rest_of_its_batch_applied(catalog_db, kafka_bootstrap):
    _, sessionmaker = catalog_db

    async def fails_on_poison(event: WidgetCreatedV1, session) -> None:
        await record_effect(event, session)  # written, then rolled back with the failure
        if event.name == "poison":
            raise ValueError("cannot handle this widget")

    consumer = _consumer(
        sessionmaker,
        kafka_bootstrap,
        f"test-batch-poison-{uuid.uuid4().hex[:8]}",
        {WidgetCreatedV1: fails_on_poison},
        retry=RetryPolicy(attempts=2, base_seconds=0.01),
    )
    envelopes = [_widget_envelope("poison" if n == 4 else f"good {n}") for n in range(10)]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:  # all on one partition (one key), so the consumer fetches them as one batch
        for envelope in envelopes:
            await producer.send(TOPIC, orjson.dumps(envelope.model_dump(mode="json")), key=b"k")
        await producer.flush()
    finally:
        await producer.stop()
    outcomes: list[Outcome] = []
    consumer.on_outcome = outcomes.append
    task = asyncio.create_task(consumer.run())
    try:
        async with asyncio.timeout(30):
            while (await _effects(sessionmaker, envelopes)).count(1) < 9 or (
                Outcome.DEAD_LETTERED not in outcomes
            ):
                await asyncio.sleep(0.1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await consumer.publisher.close()
    assert await _effects(sessionmaker, envelopes) == [1, 1, 1, 1, 0, 1, 1, 1, 1, 1]
    parked = await read_topic(kafka_bootstrap, TOPIC + ".dlq", expect=1)
    assert envelopes[4].id.hex.encode() in b"".join(r.value.replace(b"-", b"") for r in parked)
