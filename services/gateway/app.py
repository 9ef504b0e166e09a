"""The gateway application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request

from services.gateway.api import docs, proxy
from services.gateway.api.auth import Authenticator
from services.gateway.domain.ratelimit import RateLimiter
from services.gateway.settings import Settings
from shared.observability import Metrics, MetricsMiddleware, RequestIdMiddleware, configure_logging
from shared.problems import install_problem_handlers, problem_response


def create_app(
    settings: Settings | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """`transport` lets tests route upstream calls to in-process apps (httpx.ASGITransport)."""
    settings = settings or Settings()
    metrics = Metrics("gateway")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.environment != "test":
            configure_logging("gateway", settings.log_level, settings.log_json)
        http = httpx.AsyncClient(
            transport=transport,
            timeout=settings.upstream_timeout_seconds,
            limits=httpx.Limits(max_connections=500, max_keepalive_connections=100),
        )
        app.state.http = http
        app.state.authenticator = Authenticator(
            http,
            app.state.upstreams["accounts"],
            settings.jwt_secret.get_secret_value(),
            settings.internal_secret.get_secret_value(),
            settings.api_key_cache_seconds,
        )
        try:
            yield
        finally:
            await http.aclose()

    app = FastAPI(
        title="B2B Commerce gateway",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.upstreams = settings.upstreams()
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    install_problem_handlers(app)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(_health_router())
    app.include_router(docs.router)
    app.include_router(proxy.router)
    return app


def _health_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/health/ready")
    async def ready(request: Request) -> Any:
        """Ready when every service answers its liveness probe."""
        http: httpx.AsyncClient = request.app.state.http

        async def check(base: str) -> str:
            try:
                response = await http.get(f"{base}/health/live", timeout=2.0)
                return "ok" if response.status_code == 200 else "down"
            except httpx.HTTPError:
                return "down"

        upstreams = request.app.state.upstreams
        results = await asyncio.gather(*(check(b) for b in upstreams.values()))
        checks = dict(zip(upstreams, results, strict=True))
        if all(v == "ok" for v in checks.values()):
            return {"status": "ok", "checks": checks}
        return problem_response(
            request, 503, slug="not-ready", detail="A service is down.", extra={"checks": checks}
        )

    @router.get("/metrics")
    async def metrics(request: Request) -> Any:
        return request.app.state.metrics.render()

    return router
