"""`/api/v1/<service>/<path>`: authenticate, check, throttle, then stream to the service and back."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect

from services.gateway.api.auth import (
    API_KEY_CHALLENGE,
    BEARER_CHALLENGE,
    INVALID_TOKEN_CHALLENGE,
    credentials,
    person_from_token,
)
from services.gateway.api.deps import Gateway, GatewayDep
from services.gateway.domain.admission import Slot
from services.gateway.domain.clients import client_address, is_trusted
from services.gateway.domain.policy import (
    SWITCH_COMPANY,
    Feed,
    feed_of,
    is_bulk_edit,
    is_document_upload,
    is_public,
    may_call,
)
from services.gateway.domain.ratelimit import RateLimiter
from services.gateway.domain.routes import Target, resolve
from shared.auth import Principal, Role, principal_headers
from shared.observability import REQUEST_ID_HEADER
from shared.problems import (
    BadGateway,
    Forbidden,
    GatewayTimeout,
    PayloadTooLarge,
    ProblemError,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)

log = logging.getLogger(__name__)
router = APIRouter()

CLIENT_CLOSED_REQUEST = 499
# Answers up to this size are read whole and sent on; larger ones (feeds, files) stream.
BUFFERED_RESPONSE_BYTES = 1024 * 1024
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Only these reach a service: credentials, cookies and forged x-principal headers never do.
FORWARDED_REQUEST_HEADERS = (
    "accept",
    "accept-language",
    "content-type",
    "content-encoding",
    "idempotency-key",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "user-agent",
)
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# The gateway's own server adds these; two copies would confuse clients.
REPLACED_RESPONSE_HEADERS = frozenset({"date", "server", REQUEST_ID_HEADER})


@router.api_route("/api/{service}/{path:path}", methods=METHODS, include_in_schema=False)
async def proxy(request: Request, gateway: GatewayDep) -> Response:
    raw_path = request.scope.get("raw_path") or quote(request.url.path).encode()
    target = resolve(raw_path.decode("latin-1"), gateway.upstreams.keys())
    principal = await _authenticate(request, gateway, target)
    if principal is not None and not may_call(principal, request.method, target.path):
        raise Forbidden("This API key may not call this endpoint.")
    _throttle(_limiter(principal, gateway), _caller(principal, request, gateway))
    settings = gateway.settings
    feed = feed_of(principal, request.method, target.path)
    limit = (
        settings.max_feed_body_bytes
        if feed is not None and feed.upload
        else settings.max_document_body_bytes
        if is_document_upload(principal, request.method, target.path)
        else settings.max_bulk_body_bytes
        if is_bulk_edit(principal, request.method, target.path)
        else settings.max_body_bytes
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)

    slot = gateway.in_flight.enter(target.service)
    if slot is None:
        gateway.shed.labels(target.service).inc()
        raise ServiceUnavailable(
            f"The {target.service} service is at capacity; try again in a second.",
            headers={"Retry-After": "1"},
        )
    try:
        response = await _forward(request, gateway, target, principal, limit, feed, slot)
    except BaseException:
        slot.release()
        raise
    if not target.versioned:
        response.raw_headers += [
            (b"deprecation", b"true"),
            (b"link", f'<{target.successor}>; rel="successor-version"'.encode("latin-1")),
        ]
    return response


async def _forward(
    request: Request,
    gateway: Gateway,
    target: Target,
    principal: Principal | None,
    limit: int,
    feed: Feed | None,
    slot: Slot,
) -> Response:
    """The request sent on and the answer relayed; the slot is given back when it is done."""
    settings = gateway.settings
    guard = _BodyGuard(limit)
    upstream_request = gateway.http.build_request(
        request.method,
        httpx.URL(
            gateway.upstreams[target.service] + target.upstream_path,
            query=request.scope.get("query_string", b""),
        ),
        headers=_upstream_headers(request, gateway, target, principal),
        content=guard.wrap(request.stream()) if _has_body(request) else None,
        timeout=(
            settings.feed_timeout_seconds if feed is not None else settings.upstream_timeout_seconds
        ),
    )
    try:
        upstream = await gateway.http.send(upstream_request, stream=True)
    except ClientDisconnect:
        # The caller went away mid-upload; nobody is left to answer. 499 as nginx logs it.
        slot.release()
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    except Exception as exc:
        if guard.exceeded:
            raise _too_large(limit) from exc
        problem = _upstream_problem(target.service, exc)
        if problem is None:
            raise
        raise problem from exc

    declared = upstream.headers.get("content-length", "")
    response: Response
    if declared.isdigit() and int(declared) <= BUFFERED_RESPONSE_BYTES:
        # Most answers are a page of JSON: relayed whole, without a streaming response's
        # task group, which costs more than the copy.
        try:
            body = b"".join([chunk async for chunk in upstream.aiter_raw()])  # still encoded
            response = Response(body, status_code=upstream.status_code)
        except httpx.TransportError as exc:
            raise _upstream_problem(target.service, exc) or exc from exc
        finally:
            await upstream.aclose()
            slot.release()
    else:
        response = StreamingResponse(
            _relay(upstream, slot),
            status_code=upstream.status_code,
            background=BackgroundTask(_close, upstream, slot),
        )
    response.raw_headers = _response_headers(upstream, gateway.upstreams[target.service], target)
    return response


async def _authenticate(request: Request, gateway: Gateway, target: Target) -> Principal | None:
    public = is_public(request.method, target.path)
    try:
        found = credentials(request.headers)
        if found is None:
            principal = None
        elif found[0] == "bearer":
            principal, generation = person_from_token(
                found[1], gateway.settings.jwt_secret.get_secret_value()
            )
            revoked = gateway.revocations.current
            if revoked.refuses(principal, generation):
                raise Unauthorized(
                    "This access was taken away; log in again.",
                    headers={"WWW-Authenticate": INVALID_TOKEN_CHALLENGE},
                )
            if revoked.blocks(principal) and not SWITCH_COMPANY.matches(
                request.method, target.path
            ):
                raise Unauthorized(
                    "The company this token acts for is blocked; switch to another of yours "
                    "(POST /api/v1/accounts/auth/switch-company) or log in again.",
                    headers={"WWW-Authenticate": INVALID_TOKEN_CHALLENGE},
                )
            principal = revoked.without_blocked(principal)
        else:
            principal = await gateway.api_keys.verify(
                found[1], getattr(request.state, "request_id", None)
            )
            if gateway.revocations.current.refuses(principal):
                raise Unauthorized(
                    "Unknown or revoked API key.", headers={"WWW-Authenticate": API_KEY_CHALLENGE}
                )
    except Unauthorized:
        if public:  # e.g. logging in again with the expired token still attached
            return None
        # Bad credentials count against the address, so guessing keys or tokens is throttled.
        _throttle(gateway.limiter, _anonymous(request, gateway))
        raise
    if principal is None:
        if public:
            return None
        raise Unauthorized(
            "Authentication required: a bearer token or an API key.",
            headers={"WWW-Authenticate": BEARER_CHALLENGE},
        )
    return principal


def _client(request: Request, gateway: Gateway) -> str:
    peer = request.client.host if request.client else "unknown"
    return client_address(peer, request.headers.getlist("x-forwarded-for"), gateway.proxies)


def _anonymous(request: Request, gateway: Gateway) -> str:
    return f"ip:{_client(request, gateway)}"


def _caller(principal: Principal | None, request: Request, gateway: Gateway) -> str:
    if principal is None:
        return _anonymous(request, gateway)
    return f"{principal.kind}:{principal.subject}"


def _limiter(principal: Principal | None, gateway: Gateway) -> RateLimiter:
    integrator = (
        principal is not None and principal.kind == "api_key" and Role.INTEGRATOR in principal.roles
    )
    return gateway.integrator_limiter if integrator else gateway.limiter


def _throttle(limiter: RateLimiter, caller: str) -> None:
    wait = limiter.take(caller)
    if wait:
        raise TooManyRequests(
            f"Too many requests; try again in {wait} s.", headers={"Retry-After": str(wait)}
        )


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")


def _has_body(request: Request) -> bool:
    declared = request.headers.get("content-length", "")
    return "transfer-encoding" in request.headers or (declared.isdigit() and int(declared) > 0)


class _BodyGuard:
    """Counts the body as it streams: Content-Length may be absent (chunked) or a lie."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.exceeded = False

    async def wrap(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        size = 0
        async for chunk in chunks:
            size += len(chunk)
            if size > self.limit:
                self.exceeded = True
                raise _too_large(self.limit)
            if chunk:
                yield chunk


def _upstream_headers(
    request: Request, gateway: Gateway, target: Target, principal: Principal | None
) -> dict[str, str]:
    incoming = request.headers
    headers = {
        name: ", ".join(incoming.getlist(name))
        for name in FORWARDED_REQUEST_HEADERS
        if name in incoming
    }
    if _has_body(request) and "content-length" in incoming:
        headers["content-length"] = incoming["content-length"]
    # Upstream responses are relayed byte for byte, so only ask for encodings the caller takes.
    headers["accept-encoding"] = incoming.get("accept-encoding", "identity")
    headers[REQUEST_ID_HEADER] = request.state.request_id
    peer = request.client.host if request.client else "unknown"
    # The chain so far only when a proxy of ours reports it; anyone else's is made up.
    chain = incoming.getlist("x-forwarded-for") if is_trusted(peer, gateway.proxies) else []
    headers["x-forwarded-for"] = ", ".join([*chain, peer])
    headers["x-forwarded-proto"] = request.url.scheme
    headers["x-forwarded-host"] = incoming.get("host", "")
    headers["x-forwarded-prefix"] = target.prefix
    if principal is not None:
        headers |= principal_headers(principal, gateway.internal_secret)
    return headers


def _response_headers(
    upstream: httpx.Response, base_url: str, target: Target
) -> list[tuple[bytes, bytes]]:
    listed_in_connection = {
        token.strip().lower()
        for value in upstream.headers.get_list("connection")
        for token in value.split(",")
    }
    out = []
    for raw_name, raw_value in upstream.headers.raw:
        name = raw_name.decode("latin-1").lower()
        if name in HOP_BY_HOP or name in listed_in_connection or name in REPLACED_RESPONSE_HEADERS:
            continue
        if name in ("location", "content-location"):
            raw_value = _gateway_location(raw_value.decode("latin-1"), base_url, target).encode(
                "latin-1"
            )
        out.append((name.encode("latin-1"), raw_value))
    return out


def _gateway_location(location: str, base_url: str, target: Target) -> str:
    """A service's own link (`/feeds/jobs/1` or its absolute URL) as the caller must follow it."""
    prefix = target.prefix
    if location == base_url or location.startswith(base_url + "/"):
        location = location[len(base_url) :] or "/"
    elif not location.startswith("/") or location.startswith("//"):
        return location  # somewhere else entirely
    if location == prefix or location.startswith(prefix + "/"):
        return location
    return prefix + location


async def _relay(upstream: httpx.Response, slot: Slot) -> AsyncIterator[bytes]:
    try:
        async for chunk in upstream.aiter_raw():
            yield chunk
    finally:
        await _close(upstream, slot)


async def _close(upstream: httpx.Response, slot: Slot) -> None:
    try:
        await upstream.aclose()
    finally:
        slot.release()


def _upstream_problem(service: str, exc: Exception) -> ProblemError | None:
    if isinstance(exc, httpx.ConnectError | httpx.PoolTimeout):
        log.warning("%s is unreachable: %r", service, exc)
        return ServiceUnavailable(f"The {service} service is unavailable; try again shortly.")
    if isinstance(exc, httpx.TimeoutException):
        log.warning("%s timed out: %r", service, exc)
        return GatewayTimeout(f"The {service} service did not answer in time.")
    if isinstance(exc, httpx.TransportError):
        log.warning("%s broke the connection: %r", service, exc)
        return BadGateway(f"The {service} service gave no valid answer.")
    return None
