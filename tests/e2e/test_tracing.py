"""Distributed tracing: a checkout through the gateway is one trace across the gateway, orders,
the services orders calls, their SQL, the outbox relay's publish and the consumer that applies
`order.placed` from the real broker. Spans are exported by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT
is set (here to a receiver on a real socket) and nothing is traced when it is not."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_structured_event
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text

from services.gateway.app import create_app as create_gateway
from services.gateway.settings import SERVICES, Settings
from shared.auth import Role
from shared.contracts.orders import ORDER_TOPIC
from shared.testing.fixtures import RoutingTransport, as_role, client, running
from shared.testing.kafka import read_topic
from tests.accounts.factories import add_user
from tests.orders.world import open_shop

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class OtlpReceiver:
    """A collector's OTLP/HTTP traces endpoint, just enough to count and read what arrives."""

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/v1/traces":
                    received.append(ExportTraceServiceRequest.FromString(body))
                self.send_response(200 if self.path == "/v1/traces" else 404)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def services(self) -> set[str]:
        """service.name of every batch received."""
        return {
            attribute.value.string_value
            for request in self.requests
            for spans in request.resource_spans
            for attribute in spans.resource.attributes
            if attribute.key == "service.name"
        }


@pytest.fixture
def otlp() -> Iterator[OtlpReceiver]:
    """Ask for it before `start_app`: the apps export their last spans as they stop."""
    receiver = OtlpReceiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


async def test_a_checkout_is_one_trace_from_the_gateway_to_the_consumer_of_order_placed(
    otlp, start_app, kafka_bootstrap
):
    spans = InMemorySpanExporter()

    async def traced(service, **settings):
        app = await start_app(service, otel_exporter_otlp_endpoint=otlp.url, **settings)
        app.state.tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
        return app

    async def traced_service(service, **settings):
        # accounts applies `order.placed` from the broker; orders' relay publishes it.
        workers = service in ("accounts", "orders")
        return await traced(service, run_workers=workers, **settings)

    shop = await open_shop(traced_service)
    apps = {"accounts": shop.accounts, "catalog": shop.catalog, "pricing": shop.pricing}
    apps["orders"] = shop.orders
    urls = {f"{n}_url": f"http://{n}" for n in SERVICES}
    gateway = create_gateway(
        Settings(environment="test", log_json=False, otel_exporter_otlp_endpoint=otlp.url, **urls),
        transport=RoutingTransport(apps),
    )
    gateway.state.tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    await add_user(shop.accounts, "buyer@c1.example", companies={shop.company_id: "buyer"})
    async with running(gateway), client(gateway) as http:
        login = await http.post(
            "/api/v1/accounts/auth/login",
            json={"email": "buyer@c1.example", "password": "secret-password"},
        )
        buyer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        cart = await http.post("/api/v1/orders/carts", headers=buyer, json={"name": "Trace"})
        assert cart.status_code == 201, cart.text
        cart_id = cart.json()["id"]
        lines = await http.put(
            f"/api/v1/orders/carts/{cart_id}/lines",
            headers=buyer,
            json={"lines": [{"sku": "CE-200", "quantity": "2"}]},
        )
        assert lines.status_code == 200, lines.text
        spans.clear()
        placed = await http.post(
            f"/api/v1/orders/carts/{cart_id}/checkout",
            headers={**buyer, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert placed.status_code == 201, placed.text
        (edge,) = [
            s
            for s in spans.get_finished_spans()
            if s.kind == SpanKind.SERVER and s.resource.attributes["service.name"] == "gateway"
        ]
        trace_id = edge.context.trace_id

        def of_the_checkout() -> list:
            return [s for s in spans.get_finished_spans() if s.context.trace_id == trace_id]

        # Until accounts has applied `order.placed` from the broker (the gateway still up:
        # stopping it shuts its provider and the exporter they share).
        for _ in range(200):
            if any(s.kind == SpanKind.CONSUMER for s in of_the_checkout()):
                break
            await asyncio.sleep(0.05)
        trace = of_the_checkout()

    def spans_of(service: str) -> list:
        return [s for s in trace if s.resource.attributes["service.name"] == service]

    # The gateway's request and its call to orders; orders' request, its calls to catalog,
    # pricing and accounts, and theirs (in process a service's request span is INTERNAL, being
    # nested in its caller's span; across processes it is SERVER).
    for service in ("gateway", "orders", "catalog", "pricing", "accounts"):
        routes = {s.attributes.get("http.route") for s in spans_of(service)}
        assert routes - {None}, service
    assert {s.kind for s in spans_of("gateway")} == {SpanKind.SERVER, SpanKind.CLIENT}
    called = {
        s.attributes["http.url"].split("/")[2]
        for s in spans_of("orders")
        if "http.url" in s.attributes
    }
    assert {"catalog", "pricing", "accounts"} <= called, called
    # Their SQL (asyncpg under SQLAlchemy), the relay publishing order.placed, and accounts
    # applying it from the broker.
    for service in ("orders", "catalog", "pricing"):
        assert any(s.attributes.get("db.system") == "postgresql" for s in spans_of(service))
    (publish,) = [s for s in spans_of("orders") if s.kind == SpanKind.PRODUCER]
    assert publish.name == "publish orders.order"
    assert publish.attributes["cloudevents.event_type"] == "com.b2b.order.placed.v1"
    (applied,) = [s for s in trace if s.kind == SpanKind.CONSUMER]
    assert applied.name == "process com.b2b.order.placed.v1"
    assert applied.resource.attributes["service.name"] == "accounts"
    assert applied.attributes["messaging.consumer.group.name"].startswith("accounts.accounts")
    # The event on the broker carries the trace as the CloudEvents distributed-tracing
    # extension, which the cloudevents SDK reads.
    order_id = placed.json()["id"]
    records = await read_topic(kafka_bootstrap, ORDER_TOPIC, expect=1)
    (record,) = [r for r in records if orjson.loads(r.value)["data"].get("order_id") == order_id]
    event = from_structured_event(
        KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value)
    )
    traceparent = event.get_extension("traceparent")
    assert traceparent.split("-")[1] == format(trace_id, "032x")
    assert publish.parent.span_id == int(traceparent.split("-")[2], 16)


async def _company_created_in_a_trace(accounts, name: str, external_id: str) -> None:
    """An admin creates a company in a request that continues the trace TRACEPARENT."""
    async with client(accounts, as_role(Role.ADMIN)) as http:
        created = await http.post(
            "/companies",
            json={"legal_name": name, "external_id": external_id},
            headers={"traceparent": TRACEPARENT},
        )
    assert created.status_code == 201, created.text


async def test_spans_go_to_the_otlp_endpoint_when_it_is_set(otlp, start_app, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.url)
    accounts = await start_app("accounts")
    await _company_created_in_a_trace(accounts, "Traced LLC", "T-1")
    assert accounts.state.tracer_provider.force_flush()
    exported = [
        span
        for request in otlp.requests
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert otlp.services() == {"accounts"}
    # The request continued the caller's trace.
    assert {span.trace_id.hex() for span in exported} == {TRACEPARENT.split("-")[1]}
    assert any(span.name.startswith("POST /companies") for span in exported)


async def test_nothing_is_traced_when_the_endpoint_is_not_set(start_app, monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    accounts = await start_app("accounts")
    assert accounts.state.tracer_provider is None
    await _company_created_in_a_trace(accounts, "Untraced LLC", "U-1")
    async with accounts.state.sessionmaker() as session:
        rows = (await session.execute(text("SELECT payload, traceparent FROM outbox"))).all()
    assert rows
    # The caller's trace is not picked up: no span, no context on the events.
    assert all(row.traceparent is None and "traceparent" not in row.payload for row in rows)
