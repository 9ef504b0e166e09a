"""Who is calling: a person with a bearer JWT, or an integrator/partner with an API key."""

from __future__ import annotations

import hashlib
import time

import httpx
from fastapi import Request

from shared.auth import Principal, Role, principal_headers
from shared.problems import ServiceUnavailable, Unauthorized
from shared.tokens import principal_from_token

GATEWAY = Principal(kind="system", subject="gateway", roles=frozenset({Role.SYSTEM}))


class Authenticator:
    def __init__(
        self,
        http: httpx.AsyncClient,
        accounts_url: str,
        jwt_secret: str,
        internal_secret: str,
        key_cache_seconds: float,
    ) -> None:
        self.http = http
        self.accounts_url = accounts_url
        self.jwt_secret = jwt_secret
        self.internal_secret = internal_secret
        self.key_cache_seconds = key_cache_seconds
        # sha256(key) -> (principal, expires at); the key itself is never kept.
        self.keys: dict[str, tuple[Principal, float]] = {}

    async def principal(self, request: Request) -> Principal | None:
        authorization = request.headers.get("authorization", "")
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() == "bearer" and credential:
            return principal_from_token(credential.strip(), self.jwt_secret)
        key = request.headers.get("x-api-key") or (
            credential.strip() if scheme.lower() == "apikey" else ""
        )
        if key:
            return await self.api_key(key)
        if authorization:
            raise Unauthorized("Use `Authorization: Bearer <token>` or `X-API-Key: <key>`.")
        return None

    async def api_key(self, key: str) -> Principal:
        digest = hashlib.sha256(key.encode()).hexdigest()
        cached = self.keys.get(digest)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        try:
            response = await self.http.post(
                f"{self.accounts_url}/internal/api-keys/verify",
                json={"key": key},
                headers=principal_headers(GATEWAY, self.internal_secret),
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable("Cannot check the API key now; try again.") from exc
        if response.status_code == 401:
            self.keys.pop(digest, None)
            raise Unauthorized("The API key is not valid.")
        if response.status_code != 200:
            raise ServiceUnavailable("Cannot check the API key now; try again.")
        principal = Principal.model_validate(response.json())
        if len(self.keys) > 10_000:
            self.keys.clear()
        self.keys[digest] = (principal, time.monotonic() + self.key_cache_seconds)
        return principal
