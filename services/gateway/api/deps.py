"""What the gateway holds while it runs, built in the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, Request
from prometheus_client import Counter

from services.gateway.api.auth import ApiKeyVerifier
from services.gateway.api.docs_cache import DocsCache
from services.gateway.api.revocations import RevocationWatch
from services.gateway.domain.admission import InFlight
from services.gateway.domain.clients import Network
from services.gateway.domain.ratelimit import RateLimiter
from services.gateway.settings import Settings


@dataclass
class Gateway:
    settings: Settings
    upstreams: dict[str, str]  # service -> base URL
    http: httpx.AsyncClient  # one pool for every upstream
    limiter: RateLimiter  # people, partners and anonymous callers
    integrator_limiter: RateLimiter  # integrators' API keys: their own, larger allowance
    api_keys: ApiKeyVerifier
    revocations: RevocationWatch
    docs: DocsCache
    in_flight: InFlight  # requests waiting on each service (admission control)
    shed: Counter  # requests refused for it, by service
    proxies: tuple[Network, ...] = ()  # whose X-Forwarded-For is believed

    @property
    def internal_secret(self) -> str:
        return self.settings.internal_secret.get_secret_value()


async def get_gateway(request: Request) -> Gateway:
    return request.app.state.gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]
