"""Builds a service's FastAPI application the same way for every service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import make_url, text

from shared import tracing
from shared.apiconventions import install_conventions
from shared.conditional import ConditionalRequestMiddleware
from shared.db import create_engine, create_sessionmaker, install_database_problems
from shared.docpages import docs_router
from shared.events.consumer import EventConsumer, Handlers, Outcome
from shared.events.kafka import Publisher, broker_reachable
from shared.events.relay import OutboxRelay
from shared.idempotency import IdempotencyMiddleware
from shared.observability import Metrics, MetricsMiddleware, RequestIdMiddleware, configure_logging
from shared.problems import install_problem_handlers, problem_response
from shared.runtime import PORTS
from shared.settings import ServiceSettings
from shared.upstream import Upstreams
from shared.versions import VersionTwoMiddleware, include_pages
from shared.workers import Worker

log = logging.getLogger(__name__)


@dataclass
class ServiceSpec:
    """What makes one service different from another; everything else is the same."""

    name: str
    title: str
    description: str
    routers: Sequence[APIRouter] = ()
    # Version 2's own routes (its paginated lists), served under /v2 (shared.versions)
    pages: Sequence[APIRouter] = ()
    # consumer group name -> {event contract: handler}
    consumers: dict[str, Handlers] = field(default_factory=dict)
    workers: Sequence[Worker] = ()
    # Run once at start-up after the pool exists (e.g. the first admin); keep them idempotent.
    on_startup: Sequence[Worker] = ()
    # Run in every process, workers or not, until it stops (e.g. a per-process cache listener).
    background: Sequence[Worker] = ()
    version: str = "0.1.0"
    # tag -> what its operations are for, in the reader's words (the documents list them)
    tags: dict[str, str] = field(default_factory=dict)


KERNEL_TAGS = {
    "health": "Is the process up, and can it reach its database and the broker (for probes)",
    "feeds": "Files from the ERP, applied as one all-or-nothing job or with bad rows skipped, "
    "as the caller chooses: upload, dry run, follow the job, read its per-row rejections",
}


async def _stop(tasks: list[asyncio.Task[Any]], grace_seconds: float) -> None:
    """Cancel the background tasks and wait for them, but never forever.

    A task stuck in its clean-up (a broker call that never answers) would otherwise hold
    the process's shutdown, and a test session, indefinitely; it is named and abandoned.
    """
    for task in tasks:
        task.cancel()
    if not tasks:
        return
    done, stuck = await asyncio.wait(tasks, timeout=grace_seconds)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.warning("%s ended with an error", task.get_name(), exc_info=task.exception())
    for task in stuck:
        frames = "".join(f"\n  {f.f_code.co_filename}:{f.f_lineno}" for f in task.get_stack())
        log.error(
            "%s did not stop within %ss; abandoned at:%s", task.get_name(), grace_seconds, frames
        )


def asyncpg_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def build_app(spec: ServiceSpec, settings: ServiceSettings) -> FastAPI:
    metrics = Metrics(spec.name)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.environment != "test":  # pytest owns logging in tests
            configure_logging(spec.name, settings.log_level, settings.log_json)
        engine = create_engine(settings.database_url, settings.db_pool_size)
        tracing.instrument_engine(engine, app.state.tracer_provider)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine, service=spec.name)
        app.state.publisher = Publisher(settings.kafka_bootstrap_servers, spec.name)
        # Tests route calls to in-process apps by setting `upstream_transport` first.
        app.state.upstreams = Upstreams(
            settings,
            getattr(app.state, "upstream_transport", None),
            tracer_provider=app.state.tracer_provider,
        )
        events_tracer = tracing.tracer(app.state.tracer_provider, "shared.events")
        for hook in spec.on_startup:
            await hook(app)
        tasks: list[asyncio.Task[Any]] = [
            asyncio.create_task(task(app), name=f"{spec.name}-background")
            for task in spec.background
        ]
        if settings.run_workers:
            relay = OutboxRelay(
                app.state.sessionmaker,
                app.state.publisher,
                listen_dsn=asyncpg_dsn(settings.database_url),
                on_published=metrics.events_published.labels(spec.name).inc,
                tracer=events_tracer,
            )
            tasks.append(asyncio.create_task(relay.run(), name=f"{spec.name}-relay"))
            for group, handlers in spec.consumers.items():
                consumer = EventConsumer(
                    f"{spec.name}.{group}{settings.consumer_group_suffix}",
                    handlers,
                    app.state.sessionmaker,
                    app.state.publisher,
                    bootstrap_servers=settings.kafka_bootstrap_servers,
                    on_outcome=_count_outcome(metrics, spec.name, group),
                    tracer=events_tracer,
                )
                tasks.append(asyncio.create_task(consumer.run(), name=f"{spec.name}-{group}"))
            for worker in spec.workers:
                tasks.append(asyncio.create_task(worker(app), name=f"{spec.name}-worker"))
        try:
            yield
        finally:
            await _stop(tasks, settings.shutdown_grace_seconds)
            await app.state.publisher.close()
            await app.state.upstreams.aclose()
            await engine.dispose()
            await tracing.shutdown(app.state.tracer_provider)

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version=spec.version,
        lifespan=lifespan,
        openapi_tags=[
            {"name": name, "description": text}
            for name, text in sorted({**KERNEL_TAGS, **spec.tags}.items())
        ],
        servers=[
            {
                "url": f"http://127.0.0.1:{PORTS[spec.name]}",
                "description": "This service alone, as `make run` starts it; clients call it "
                "through the gateway (`/api/v1/<service>/...`, `/api/v2/<service>/...`)",
            }
        ]
        if spec.name in PORTS
        else None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.service = spec.name
    app.state.feed_wakeup = asyncio.Event()  # set when a feed job is queued by this process
    tracing.install(app, spec.name, settings.otel_exporter_otlp_endpoint)
    install_problem_handlers(app)
    install_database_problems(app)
    install_conventions(app)
    app.add_middleware(ConditionalRequestMiddleware)
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(_health_router(settings))
    app.include_router(docs_router(spec.title))
    for router in spec.routers:
        app.include_router(router)
    for router in spec.pages:
        include_pages(app, router)
    app.add_middleware(VersionTwoMiddleware, routes=app.routes)
    return app


def _count_outcome(metrics: Metrics, service: str, group: str) -> Callable[[Outcome], None]:
    def count(outcome: Outcome) -> None:
        metrics.events_consumed.labels(service, group, outcome.value).inc()

    return count


def _health_router(settings: ServiceSettings) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health/live", summary="The process is up")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/health/ready",
        summary="The database and the broker are reachable",
        responses={503: {"description": "A dependency is down"}},
    )
    async def ready(request: Request) -> Any:
        checks: dict[str, str] = {}
        try:
            async with request.app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception:
            checks["database"] = "down"
        ok = await broker_reachable(settings.kafka_bootstrap_servers)
        checks["broker"] = "ok" if ok else "down"
        if all(v == "ok" for v in checks.values()):
            return {"status": "ok", "checks": checks}
        return problem_response(
            request, 503, slug="not-ready", detail="A dependency is down.", extra={"checks": checks}
        )

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics(request: Request) -> Any:
        return request.app.state.metrics.render()

    return router
