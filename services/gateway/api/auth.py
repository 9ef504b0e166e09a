"""Who is calling: a person's bearer token or an API key that accounts vouches for."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

import httpx
from pydantic import ValidationError
from starlette.datastructures import Headers

from services.gateway.domain.cache import TtlCache
from services.gateway.domain.policy import ROLES_NOT_FOR_PEOPLE
from shared.auth import Principal, Role, principal_headers
from shared.problems import BadGateway, GatewayTimeout, ServiceUnavailable, Unauthorized
from shared.tokens import read_access_token

log = logging.getLogger(__name__)

API_KEY_HEADER = "x-api-key"
API_KEY_SCHEME = "b2b"
MAX_KEY_LENGTH = 200
VERIFY_PATH = "/internal/api-keys/verify"
VERIFY_TIMEOUT_SECONDS = 5.0
BEARER_CHALLENGE = "Bearer"
INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"'
API_KEY_CHALLENGE = "ApiKey"
GATEWAY_PRINCIPAL = Principal(kind="system", subject="gateway", roles=frozenset({Role.SYSTEM}))


def credentials(headers: Headers) -> tuple[str, str] | None:
    """("bearer", token) or ("api_key", key) from the request, None when it carries neither."""
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and value:
            return "bearer", value
        if scheme.lower() == "apikey" and value:
            return "api_key", value
        raise Unauthorized(
            "Send `Authorization: Bearer <token>` or an API key.",
            headers={"WWW-Authenticate": BEARER_CHALLENGE},
        )
    key = headers.get(API_KEY_HEADER, "").strip()
    return ("api_key", key) if key else None


def person_from_token(token: str, jwt_secret: str) -> tuple[Principal, int]:
    """The person and the access generation its token was issued at."""
    try:
        principal, generation = read_access_token(token, jwt_secret)
    except Unauthorized as exc:
        exc.headers = {"WWW-Authenticate": INVALID_TOKEN_CHALLENGE}
        raise
    if principal.roles & ROLES_NOT_FOR_PEOPLE:
        raise Unauthorized(
            "The access token is not valid.",
            headers={"WWW-Authenticate": INVALID_TOKEN_CHALLENGE},
        )
    return principal, generation


def _well_formed(key: str) -> bool:
    scheme, _, rest = key.partition("_")
    prefix, _, secret = rest.partition("_")
    return scheme == API_KEY_SCHEME and bool(prefix) and bool(secret) and len(key) <= MAX_KEY_LENGTH


class ApiKeyVerifier:
    """Asks accounts about a key and trusts the answer for a while.

    The cache is keyed by the key's SHA-256, so the gateway's memory never holds a usable key.
    Failures are not cached: a key created a second ago works at once.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        accounts_url: str,
        internal_secret: str,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.url = accounts_url.rstrip("/") + VERIFY_PATH
        self.internal_secret = internal_secret
        self.cache: TtlCache[Principal] = TtlCache(cache_seconds, clock)

    async def verify(self, key: str, request_id: str | None = None) -> Principal:
        unknown = Unauthorized(
            "Unknown or revoked API key.", headers={"WWW-Authenticate": API_KEY_CHALLENGE}
        )
        if not _well_formed(key):
            raise unknown
        digest = hashlib.sha256(key.encode()).hexdigest()
        cached = self.cache.get(digest)
        if cached is not None:
            return cached
        headers = principal_headers(GATEWAY_PRINCIPAL, self.internal_secret)
        if request_id:
            headers["x-request-id"] = request_id
        try:
            response = await self.http.post(
                self.url, json={"key": key}, headers=headers, timeout=VERIFY_TIMEOUT_SECONDS
            )
        except httpx.TimeoutException as exc:
            raise GatewayTimeout("accounts did not answer whether the API key is valid.") from exc
        except httpx.TransportError as exc:
            raise ServiceUnavailable(
                "API keys cannot be checked now: accounts is unreachable."
            ) from exc
        if response.status_code == 401:
            raise unknown
        try:
            response.raise_for_status()
            principal = Principal.model_validate(response.json())
        except (httpx.HTTPStatusError, ValueError, ValidationError) as exc:
            log.error("accounts answered the API-key check with %s", response.status_code)
            raise BadGateway("accounts could not check the API key.") from exc
        if principal.kind != "api_key":
            log.error("accounts vouched for an API key as a %r", principal.kind)
            raise BadGateway("accounts could not check the API key.")
        self.cache.put(digest, principal)
        return principal
