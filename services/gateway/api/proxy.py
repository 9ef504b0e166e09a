"""`/api/<service>/<path>`: authenticate, check the edge rules, then stream to the service."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from services.gateway.domain import policy
from shared.auth import PRINCIPAL_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, principal_headers
from shared.observability import REQUEST_ID_HEADER
from shared.problems import Forbidden, NotFound, ProblemError, Unauthorized

router = APIRouter(include_in_schema=False)

# Never forwarded: hop-by-hop headers, the caller's credentials, and anything claiming to be
# a principal (only the gateway signs those).
DROP_REQUEST = {
    "host",
    "connection",
    "keep-alive",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
    "transfer-encoding",
    "authorization",
    "x-api-key",
    "cookie",
    PRINCIPAL_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
}
DROP_RESPONSE = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "trailer",
    "upgrade",
    REQUEST_ID_HEADER,
}
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class PayloadTooLarge(ProblemError):
    status, slug = 413, "payload-too-large"


class TooManyRequests(ProblemError):
    status, slug = 429, "rate-limited"


class UpstreamTimeout(ProblemError):
    status, slug = 504, "upstream-timeout"


class UpstreamDown(ProblemError):
    status, slug = 503, "service-unavailable"


async def _limited(request: Request, limit: int) -> AsyncIterator[bytes]:
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
        yield chunk


@router.api_route("/api/{service}/{path:path}", methods=METHODS)
async def proxy(service: str, path: str, request: Request) -> StreamingResponse:
    state = request.app.state
    settings = state.settings
    base = state.upstreams.get(service)
    if base is None or policy.is_internal(path):
        raise NotFound("No such API.")
    method = request.method
    principal = await state.authenticator.principal(request)
    if principal is None and not policy.is_public(method, service, path):
        raise Unauthorized("Authentication required.", headers={"WWW-Authenticate": "Bearer"})
    if principal is not None and not policy.edge_allows(principal, method, service, path):
        raise Forbidden("This key may not call this API.")

    caller = f"{principal.kind}:{principal.subject}" if principal else f"ip:{_client_ip(request)}"
    wait = state.rate_limiter.take(caller)
    if wait:
        raise TooManyRequests("Too many requests; slow down.", headers={"Retry-After": str(wait)})

    feed = policy.is_feed_path(path)
    limit = settings.max_feed_body_bytes if feed else settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit} bytes.")

    headers = {k: v for k, v in request.headers.items() if k.lower() not in DROP_REQUEST}
    headers[REQUEST_ID_HEADER] = request.state.request_id
    headers["x-forwarded-for"] = _client_ip(request)
    if principal is not None:
        headers.update(principal_headers(principal, settings.internal_secret.get_secret_value()))
    has_body = bool(declared and declared != "0") or "transfer-encoding" in request.headers
    upstream = state.http.build_request(
        method,
        f"{base}/{path}",
        params=request.query_params.multi_items(),
        headers=headers,
        content=_limited(request, limit) if has_body else None,
        timeout=settings.feed_timeout_seconds if feed else settings.upstream_timeout_seconds,
    )
    try:
        response = await state.http.send(upstream, stream=True)
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout(f"The {service} service did not answer in time.") from exc
    except httpx.TransportError as exc:
        raise UpstreamDown(f"The {service} service is unavailable.") from exc
    return StreamingResponse(
        response.aiter_raw(),
        status_code=response.status_code,
        headers={k: v for k, v in response.headers.items() if k.lower() not in DROP_RESPONSE},
        background=BackgroundTask(response.aclose),
    )


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
