"""Calls to another service that must be answered now (orders asks pricing for a cart's prices).

One pooled httpx client per process, on `app.state.upstreams`. Each call is signed as the
caller's principal, or as this service (`system`) when no person is behind it. Connection
failures and 5xx answers of idempotent calls are retried with jittered backoff; what still
fails becomes a 503 problem that names the service, so the buyer is told what is down.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Annotated, Any

import aiohttp
import httpx
from fastapi import Depends, Request
from httpx_aiohttp import AiohttpTransport
from opentelemetry.sdk.trace import TracerProvider

from shared.auth import Principal, Role, principal_headers
from shared.problems import GatewayTimeout, ServiceUnavailable
from shared.settings import ServiceSettings
from shared.tracing import traced_transport

log = logging.getLogger(__name__)
ATTEMPTS = 3
BACKOFF_SECONDS = 0.05


class _Transport(AiohttpTransport):
    """httpx-aiohttp 0.2 reports every connection error as a connect timeout: a refused
    connection must stay one (503: the service is down) and a connection broken mid-call
    another (502), not a timeout (504)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.TransportError as exc:
            cause = exc.__cause__
            if isinstance(cause, asyncio.TimeoutError):  # aiohttp's timeouts are ones
                raise
            if isinstance(cause, aiohttp.ClientConnectorError):
                raise httpx.ConnectError(str(cause), request=request) from cause
            if isinstance(cause, aiohttp.ClientConnectionError):
                raise httpx.RemoteProtocolError(str(cause), request=request) from cause
            raise


def internal_client(
    timeout: httpx.Timeout,
    max_connections: int,
    transport: httpx.AsyncBaseTransport | None = None,
    base_url: str = "",
    tracer_provider: TracerProvider | None = None,
) -> httpx.AsyncClient:
    """An httpx client for calls between our own processes, on aiohttp's connection pool
    unless `transport` is given (tests route to in-process apps with one).

    httpx's own pool (httpcore, h11) cost 1-3 ms of CPU a call once tens of calls were in
    flight, more than most endpoints themselves; on aiohttp the same call costs ~0.3 ms
    whatever the concurrency (bench.load prints the CPU per request of every process).

    With tracing on, each call is a client span and carries its `traceparent`."""
    transport = transport or _Transport(
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
    )
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout,
        transport=traced_transport(transport, tracer_provider),
        trust_env=False,  # internal URLs: an HTTP_PROXY must not reroute them
    )


class Upstreams:
    def __init__(
        self,
        settings: ServiceSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self.urls = settings.upstream_urls()
        self.secret = settings.internal_secret.get_secret_value()
        self.me = Principal(
            kind="system", subject=settings.service_name, roles=frozenset({Role.SYSTEM})
        )
        self.http = internal_client(
            httpx.Timeout(settings.upstream_timeout_seconds, connect=3.0),
            max_connections=50,
            transport=transport,
            tracer_provider=tracer_provider,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        as_principal: Principal | None = None,
        idempotent: bool | None = None,
        request_id: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """The answer, whatever its status below 500; 503/504 problems when `service` fails."""
        retry = method in ("GET", "HEAD", "PUT", "DELETE") if idempotent is None else idempotent
        headers = principal_headers(as_principal or self.me, self.secret)
        if request_id:
            headers["x-request-id"] = request_id
        if service not in self.urls:
            raise LookupError(
                f"{service} is not an upstream of {self.me.subject}: its Settings "
                f"declare no {service}_url"
            )
        url = self.urls[service] + path
        for attempt in range(1, ATTEMPTS + 1):
            last = attempt == ATTEMPTS or not retry
            try:
                response = await self.http.request(method, url, headers=headers, **kwargs)
            except httpx.TimeoutException as exc:
                if last:
                    raise GatewayTimeout(f"{service} did not answer in time.") from exc
            except httpx.TransportError as exc:
                if last:
                    raise ServiceUnavailable(f"{service} is unreachable; try again.") from exc
            else:
                if response.status_code < 500:
                    return response
                if last:
                    log.error("%s %s answered %s", method, url, response.status_code)
                    raise ServiceUnavailable(f"{service} failed to answer; try again.")
            await asyncio.sleep(BACKOFF_SECONDS * 2**attempt * random.uniform(0.5, 1.5))  # noqa: S311 (jitter)
        raise AssertionError("unreachable")


async def _upstreams(request: Request) -> Upstreams:
    return request.app.state.upstreams


# The running application's calls, for a route to hand to its use case.
UpstreamsDep = Annotated[Upstreams, Depends(_upstreams)]
