"""Distributed tracing with OpenTelemetry: one trace from the gateway through the services,
their calls to each other, their SQL, and the outbox -> Kafka -> consumer path.

Each app (the gateway, every service) has a tracer provider of its own, named by its service,
when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and exports to it by OTLP over HTTP (the other
standard `OTEL_*` variables, e.g. `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_TRACES_SAMPLER`, still
apply). Unset, nothing is instrumented at all: no span, no header, no cost.

The context travels as W3C `traceparent`/`tracestate`: as HTTP headers between processes, and
on the outbox row and its CloudEvent (the CloudEvents distributed-tracing extension) from the
request that recorded an event to the relay that publishes it and the consumers that apply it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import AsyncOpenTelemetryTransport
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Tracer, get_current_span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy.ext.asyncio import AsyncEngine

# Probes, scrapes and the gateway's poll for revoked access, each every few seconds, would
# bury the traces that matter.
UNTRACED_URLS = "/health/,/metrics,/internal/revocations"
_W3C = TraceContextTextMapPropagator()


def tracer_provider(service: str, otlp_endpoint: str | None) -> TracerProvider | None:
    """This service's provider, exporting to `otlp_endpoint` (the base URL, as
    OTEL_EXPORTER_OTLP_ENDPOINT gives it); None, tracing off, when there is none."""
    if not otlp_endpoint:
        return None
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    exporter = OTLPSpanExporter(endpoint=otlp_endpoint.rstrip("/") + "/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def install(app: FastAPI, service: str, otlp_endpoint: str | None) -> TracerProvider | None:
    """Traces the app's requests (a server span per request, continuing the caller's
    `traceparent`) when tracing is on; the provider is kept on `app.state.tracer_provider`
    for its engine, its clients, relay and consumers."""
    provider = tracer_provider(service, otlp_endpoint)
    app.state.tracer_provider = provider
    if provider is not None:
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=provider,
            excluded_urls=UNTRACED_URLS,
            exclude_spans=["receive", "send"],  # a span per ASGI message is noise
        )
    return provider


async def shutdown(provider: TracerProvider | None) -> None:
    """Export what is left (the exporter blocks, so off the event loop)."""
    if provider is not None:
        await asyncio.to_thread(provider.shutdown)


def tracer(provider: TracerProvider | None, name: str) -> Tracer | None:
    return provider.get_tracer(name) if provider is not None else None


class _CallTracer(AsyncOpenTelemetryTransport):
    """httpx's tracing transport, for calls made inside a trace only (as for SQL below)."""

    async def handle_async_request(self, *args: Any, **kwargs: Any) -> httpx.Response:
        if not get_current_span().get_span_context().is_valid:
            return await self._transport.handle_async_request(*args, **kwargs)
        return await super().handle_async_request(*args, **kwargs)


def traced_transport(
    transport: httpx.AsyncBaseTransport, provider: TracerProvider | None
) -> httpx.AsyncBaseTransport:
    """`transport` with a client span per call made in a trace, and its `traceparent` sent
    along; itself when tracing is off."""
    if provider is None:
        return transport
    return _CallTracer(transport, tracer_provider=provider)


class _StatementTracer(EngineTracer):
    """SQLAlchemy's tracer, for statements run inside a trace only: the relay's and the
    workers' polls each second would otherwise be a trace each."""

    def _before_cur_exec(self, conn: Any, cursor: Any, statement: Any, *args: Any) -> Any:
        if not get_current_span().get_span_context().is_valid:
            return statement, args[0]
        return super()._before_cur_exec(conn, cursor, statement, *args)


def instrument_engine(engine: AsyncEngine, provider: TracerProvider | None) -> None:
    """A span per SQL statement (asyncpg under SQLAlchemy), in the trace of the request or
    event that ran it."""
    if provider is None:
        return
    connections = NoOpMeterProvider().get_meter(__name__).create_up_down_counter("connections")
    _StatementTracer(provider.get_tracer(__name__), engine.sync_engine, connections)


def current_context() -> dict[str, str]:
    """The W3C `traceparent` (and `tracestate`) of the span running now; empty when none is."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier


def context_of(traceparent: str | None, tracestate: str | None) -> Context | None:
    """The context an event was recorded in, to continue its trace; None when it had none."""
    if not traceparent:
        return None
    carrier: dict[str, Any] = {"traceparent": traceparent}
    if tracestate:
        carrier["tracestate"] = tracestate
    return _W3C.extract(carrier)
