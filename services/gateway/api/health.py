"""The gateway's own health and metrics."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import APIRouter, Request

from services.gateway.api.deps import GatewayDep
from shared.problems import problem_response

router = APIRouter(tags=["health"])
PROBE_TIMEOUT_SECONDS = 2.0


@router.get("/health/live", summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready", summary="Every service answers its liveness probe")
async def ready(request: Request, gateway: GatewayDep) -> Any:
    names = sorted(gateway.upstreams)
    answers = await asyncio.gather(*(_alive(gateway.http, gateway.upstreams[n]) for n in names))
    checks = {name: "ok" if alive else "down" for name, alive in zip(names, answers, strict=True)}
    down = [name for name, state in checks.items() if state == "down"]
    if not down:
        return {"status": "ok", "checks": checks}
    return problem_response(
        request,
        503,
        slug="not-ready",
        detail=f"Down: {', '.join(down)}.",
        extra={"checks": checks},
    )


async def _alive(http: httpx.AsyncClient, base_url: str) -> bool:
    try:
        response = await http.get(base_url + "/health/live", timeout=PROBE_TIMEOUT_SECONDS)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(request: Request) -> Any:
    return request.app.state.metrics.render()
