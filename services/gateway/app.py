"""The gateway application. Unlike the services it has no database, broker or workers, so it
is built here rather than by shared.app.build_app, with the same middlewares and problems."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from prometheus_client import Counter

from services.gateway.api import docs, health, proxy
from services.gateway.api.auth import ApiKeyVerifier
from services.gateway.api.deps import Gateway
from services.gateway.api.docs_cache import DocsCache
from services.gateway.api.revocations import RevocationWatch
from services.gateway.domain.admission import InFlight
from services.gateway.domain.clients import parse_networks
from services.gateway.domain.ratelimit import RateLimiter
from services.gateway.openapi.service import TITLE
from services.gateway.settings import Settings
from shared import tracing
from shared.docpages import docs_router
from shared.observability import Metrics, MetricsMiddleware, RequestIdMiddleware, configure_logging
from shared.problems import install_problem_handlers
from shared.upstream import internal_client

CONNECT_TIMEOUT_SECONDS = 5.0


def create_app(
    settings: Settings | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """`transport` carries every upstream call; tests pass one that routes to in-process apps
    (see tests/gateway/conftest.py). None: the network."""
    settings = settings or Settings()
    metrics = Metrics("gateway")
    upstreams = settings.upstreams()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.environment != "test":  # pytest owns logging in tests
            configure_logging("gateway", settings.log_level, settings.log_json)
        http = internal_client(
            httpx.Timeout(settings.upstream_timeout_seconds, connect=CONNECT_TIMEOUT_SECONDS),
            max_connections=settings.upstream_max_connections,
            transport=transport,
            tracer_provider=app.state.tracer_provider,
        )
        secret = settings.internal_secret.get_secret_value()
        revocations = RevocationWatch(
            http, upstreams["accounts"], secret, settings.revocation_poll_seconds
        )
        app.state.gateway = Gateway(
            settings=settings,
            upstreams=upstreams,
            http=http,
            limiter=RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst),
            integrator_limiter=RateLimiter(
                settings.integrator_rate_limit_per_minute, settings.integrator_rate_limit_burst
            ),
            api_keys=ApiKeyVerifier(
                http, upstreams["accounts"], secret, settings.api_key_cache_seconds
            ),
            revocations=revocations,
            docs=DocsCache(),
            in_flight=InFlight(settings.max_in_flight_per_service),
            shed=Counter(
                "gateway_requests_shed_total",
                "Requests answered 503 at once because their service was at capacity",
                ["upstream"],
                registry=metrics.registry,
            ),
            proxies=parse_networks(settings.trusted_proxies),
        )
        watching = asyncio.create_task(revocations.run(), name="revocations")
        try:
            yield
        finally:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
            await http.aclose()
            await tracing.shutdown(app.state.tracer_provider)

    app = FastAPI(
        title="B2B Commerce API gateway",
        lifespan=lifespan,
        # /openapi.json is the merged document of every service (api/docs); /docs and /redoc
        # read it (shared.docpages); /v2/... the same for version 2.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.service = "gateway"
    tracing.install(app, "gateway", settings.otel_exporter_otlp_endpoint)
    install_problem_handlers(app)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)
    for router in (
        health.router,
        docs.router,
        docs_router(TITLE),
        docs_router(f"{TITLE} v2", "/v2/openapi.json", prefix="/v2"),
        proxy.router,
    ):
        # Not include_router: shared's MetricsMiddleware reads route templates only from the
        # app's own routes, and through an included router every proxied URL (ids and all)
        # would become a metrics label of its own.
        app.router.routes.extend(router.routes)
    return app
