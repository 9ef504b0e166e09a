"""Admission control: past a service's capacity the gateway answers 503 at once, never queues."""

from __future__ import annotations

import asyncio
import time

from fastapi import FastAPI

from shared.auth import Role
from shared.testing.fixtures import client
from tests.gateway.tokens import bearer
from tests.gateway.upstreams import upstream_app

BUYER = bearer(Role.BUYER)


def slow_app() -> FastAPI:
    """A service whose `/held` answers only when the test lets it."""
    app = upstream_app("Slow API")
    app.state.waiting = 0
    app.state.go = asyncio.Event()

    async def held() -> dict[str, str]:
        app.state.waiting += 1
        await app.state.go.wait()
        return {"status": "done"}

    app.add_api_route("/held", held)
    app.router.routes.insert(0, app.router.routes.pop())  # before the echo's catch-all
    return app


async def until(condition, seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


async def test_a_service_at_capacity_is_refused_at_once_and_others_are_not(start_gateway):
    catalog = slow_app()
    gateway = await start_gateway(
        {"catalog": catalog, "pricing": upstream_app()}, max_in_flight_per_service=2
    )
    in_flight = gateway.state.gateway.in_flight
    async with client(gateway, BUYER) as http:
        held = [asyncio.create_task(http.get("/api/v1/catalog/held")) for _ in range(2)]
        await until(lambda: catalog.state.waiting == 2)
        started = time.perf_counter()
        refused = await http.get("/api/v2/catalog/widgets/1")
        refused_in = time.perf_counter() - started
        elsewhere = await http.get("/api/v1/pricing/widgets/1")
        catalog.state.go.set()
        answers = await asyncio.gather(*held)
        again = await http.get("/api/v1/catalog/widgets/1")
        metrics = (await http.get("/metrics")).text
    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "1"
    assert refused_in < 0.5  # at once, not after a pool's timeout
    assert elsewhere.status_code == 200
    assert [a.status_code for a in answers] == [200, 200]
    assert again.status_code == 200
    assert in_flight.of("catalog") == 0
    assert 'gateway_requests_shed_total{upstream="catalog"} 1.0' in metrics


async def test_every_way_an_answer_ends_gives_its_place_back(start_gateway):
    gateway = await start_gateway({"catalog": upstream_app()}, max_in_flight_per_service=1)
    in_flight = gateway.state.gateway.in_flight
    async with client(gateway, BUYER) as http:
        streamed = await http.get("/api/v1/catalog/download", params={"size": 3 * 1024 * 1024})
        assert len(streamed.content) == 3 * 1024 * 1024
        assert in_flight.of("catalog") == 0
        down = await http.get("/api/v1/pricing/widgets/1")  # pricing is down: a 503 of its own
        assert down.status_code == 503
        assert in_flight.of("pricing") == 0
        refused_body = await http.post(
            "/api/v1/catalog/things", content=b"x" * (2 * 1024 * 1024)
        )  # too large: refused before it is sent
        assert refused_body.status_code == 413
        assert in_flight.of("catalog") == 0
        assert (await http.get("/api/v1/catalog/widgets/1")).status_code == 200
