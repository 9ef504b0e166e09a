import asyncio
import dataclasses
import time

from services.catalog import app as catalog
from shared.app import build_app
from shared.testing.fixtures import client, running


async def test_live_and_ready_report_real_dependencies(start_app):
    app = await start_app("catalog")
    async with client(app) as http:
        live = await http.get("/health/live")
        ready = await http.get("/health/ready")
    assert live.status_code == 200
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}
    assert ready.headers["x-request-id"]


async def test_ready_is_503_when_the_broker_is_unreachable(start_app):
    app = await start_app("catalog", kafka_bootstrap_servers="127.0.0.1:1")
    async with client(app) as http:
        ready = await http.get("/health/ready")
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.json()["checks"]["broker"] == "down"


async def test_metrics_count_requests_by_route_template(start_app):
    app = await start_app("catalog")
    async with client(app) as http:
        await http.get("/health/live")
        metrics = await http.get("/metrics")
    assert 'route="/health/live"' in metrics.text


async def test_a_task_stuck_in_its_clean_up_does_not_hold_the_shutdown(service_settings, caplog):
    released = asyncio.Event()

    async def stubborn(app):
        try:
            await asyncio.Event().wait()
        finally:
            # A clean-up that never ends, as a broker call without an answer would.
            await released.wait()

    spec = dataclasses.replace(catalog.SPEC, background=[stubborn])
    app = build_app(spec, service_settings("catalog", shutdown_grace_seconds=0.5))
    started = time.monotonic()
    async with running(app):
        await asyncio.sleep(0)
    assert time.monotonic() - started < 5
    assert "catalog-background did not stop within 0.5s" in caplog.text
    assert "test_health.py" in caplog.text  # where it was stuck
    released.set()
