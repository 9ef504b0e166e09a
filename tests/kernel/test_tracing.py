"""The trace context without a broker: what the outbox keeps of the span an event is recorded
in, how a consumer's span continues it (child of one trace; a run of events from several
traces, linked to each), and the `traceparent` a call between services sends on a real socket."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import select

from shared.events.consumer import EventConsumer, Many
from shared.events.envelope import CloudEvent
from shared.events.kafka import Publisher
from shared.events.outbox import OutboxMessage, record_event, record_events_from_query
from shared.upstream import internal_client
from tests.kernel.test_internal_client import _server
from tests.kernel.widgets import WidgetCreatedV1, record_effect

ONE = "00-11111111111111111111111111111111-1111111111111111-01"
TWO = "00-22222222222222222222222222222222-2222222222222222-01"


@pytest.fixture
def spans() -> tuple[TracerProvider, InMemorySpanExporter]:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def widget_event(traceparent: str | None) -> CloudEvent:
    event = WidgetCreatedV1(widget_id=uuid.uuid4(), name="w")
    return CloudEvent(
        source="/b2b/test",
        type=event.full_type(),
        subject=event.aggregate_id(),
        data=event.model_dump(mode="json"),
        traceparent=traceparent,
    )


def consumer(sessionmaker, handler, provider) -> EventConsumer:
    return EventConsumer(
        f"trace-{uuid.uuid4().hex[:6]}",
        {WidgetCreatedV1: handler},
        sessionmaker,
        Publisher("127.0.0.1:1", "test"),  # never used: apply_all needs no broker
        bootstrap_servers="127.0.0.1:1",
        tracer=provider.get_tracer("test"),
    )


async def test_an_event_recorded_in_a_span_keeps_its_trace_on_the_row_and_the_envelope(
    sessionmaker, spans
):
    provider, _ = spans
    with provider.get_tracer("test").start_as_current_span("request") as request:
        async with sessionmaker() as session, session.begin():
            envelope = record_event(session, WidgetCreatedV1(widget_id=uuid.uuid4(), name="w"))
    async with sessionmaker() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.id == envelope.id))
    context = request.get_span_context()
    assert row.traceparent == (
        f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"
    )
    assert row.payload["traceparent"] == row.traceparent == envelope.traceparent


async def test_events_built_in_sql_keep_the_trace_too(sessionmaker, spans):
    provider, _ = spans
    query = (
        "SELECT w AS aggregate_id, jsonb_build_object('widget_id', w, 'name', 'w') AS data "
        "FROM (SELECT gen_random_uuid() AS w FROM generate_series(1, 3)) AS widgets"
    )
    with provider.get_tracer("test").start_as_current_span("request") as request:
        async with sessionmaker() as session, session.begin():
            assert await record_events_from_query(session, WidgetCreatedV1, query) == 3
    async with sessionmaker() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    trace_id = f"{request.get_span_context().trace_id:032x}"
    assert [row.traceparent.split("-")[1] for row in rows] == [trace_id] * 3
    assert all(row.payload["traceparent"] == row.traceparent for row in rows)
    WidgetCreatedV1.model_validate(rows[0].payload["data"])


async def test_each_event_is_applied_in_a_child_span_of_its_own_trace(sessionmaker, spans):
    provider, exporter = spans
    applying = consumer(sessionmaker, record_effect, provider)
    await applying.apply_all([widget_event(ONE), widget_event(TWO), widget_event(None)])
    traced = exporter.get_finished_spans()
    assert [(s.kind, s.name) for s in traced] == [
        (SpanKind.CONSUMER, "process com.b2b.test.widget.created.v1")
    ] * 2
    assert [f"{s.parent.trace_id:032x}" for s in traced] == ["1" * 32, "2" * 32]
    assert {s.context.trace_id for s in traced} == {int("1" * 32, 16), int("2" * 32, 16)}


async def test_a_run_of_events_from_several_traces_is_one_span_linked_to_each(sessionmaker, spans):
    provider, exporter = spans

    async def handle_all(events, session):
        for event in events:
            await record_effect(event, session)

    applying = consumer(sessionmaker, Many(handle_all), provider)
    await applying.apply_all([widget_event(ONE), widget_event(TWO)])
    (span,) = exporter.get_finished_spans()
    assert span.parent is None
    assert {f"{link.context.trace_id:032x}" for link in span.links} == {"1" * 32, "2" * 32}
    assert span.attributes["messaging.batch.message_count"] == 2


async def test_a_call_to_another_service_over_the_network_carries_the_trace(spans):
    """Over aiohttp's pool (the production transport), a client span and its `traceparent`."""
    provider, exporter = spans
    seen: list[bytes] = []

    async def answer(reader, writer):
        while not reader.at_eof():  # each request of a kept-alive connection
            with contextlib.suppress(asyncio.IncompleteReadError):
                seen.append(await reader.readuntil(b"\r\n\r\n"))
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                await writer.drain()

    async with (
        _server(answer) as url,
        internal_client(httpx.Timeout(5), 4, tracer_provider=provider) as http,
    ):
        with provider.get_tracer("test").start_as_current_span("request"):
            assert (await http.get(url + "/prices")).status_code == 200
        # A call outside any trace (a worker's, the gateway's poll) starts none.
        assert (await http.get(url + "/internal/revocations")).status_code == 200
    (call,) = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.CLIENT]
    traced, untraced = (
        dict(line.split(": ", 1) for line in head.decode().lower().split("\r\n")[1:] if line)
        for head in seen
    )
    sent = traced["traceparent"].split("-")
    assert (int(sent[1], 16), int(sent[2], 16)) == (call.context.trace_id, call.context.span_id)
    assert "traceparent" not in untraced
