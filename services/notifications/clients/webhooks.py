"""The HTTP client webhooks go out on, and what a subscriber is told of an attempt.

Unless private URLs are allowed (tests and development only: production refuses it), every
connection resolves the subscriber's host itself, refuses it when any address is in our own
network, and connects to the address it checked. A DNS answer that changes between the
subscription's check and the call (rebinding) cannot slip through; TLS still verifies the
certificate against the host name.

A subscriber sees the status and a short reason of each attempt, never the body its receiver
answered (nor what some other server behind its URL would say)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

import httpcore
import httpx

from services.notifications.domain.destinations import first_refusal
from services.notifications.settings import Settings

REFUSED = "refused: "
UNRESOLVED = "does not resolve: "


class PublicNetwork(httpcore.AsyncNetworkBackend):
    """TCP connections to public addresses only, to the very address that was checked."""

    def __init__(self) -> None:
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout
            )
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(UNRESOLVED + host) from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        reason = first_refusal(addresses)
        if reason is not None:
            raise httpcore.ConnectError(REFUSED + reason)
        failed: Exception | None = None
        for address in addresses:
            try:
                return await self._backend.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failed = exc
        assert failed is not None
        raise failed

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError(REFUSED + "webhooks go over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class _PublicTransport(httpx.AsyncHTTPTransport):
    def __init__(self, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        # httpx takes no network backend, so its pool is built again, the same, with ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PublicNetwork(),
        )


async def addresses(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (OSError when it does not)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port)
    return [str(info[4][0]) for info in infos]


def webhook_client(settings: Settings, connections: int | None = None) -> httpx.AsyncClient:
    connections = connections or settings.webhook_concurrency
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    transport = None if settings.webhook_allow_private_urls else _PublicTransport(limits)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.webhook_timeout_seconds, connect=5.0),
        limits=limits,
        transport=transport,
        trust_env=False,  # subscribers' URLs: no proxy from the environment
        follow_redirects=False,
    )


def status_reason(code: int) -> str:
    """`503 Service Unavailable`: the standard phrase, not the one the receiver sent."""
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def failure_reason(exc: httpx.HTTPError) -> str:
    """A call that got no answer, in a few words that reveal nothing of the network."""
    message = str(exc)
    if message.startswith((REFUSED, UNRESOLVED)):
        return message[:200]
    if isinstance(exc, httpx.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the receiver broke the connection"
    return "the call failed"
