"""Pytest fixtures every service's tests use (loaded by tests/conftest.py)."""

from __future__ import annotations

import contextlib
import importlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import make_url

from shared import clock
from shared.auth import (
    PRINCIPAL_HEADER,
    TIMESTAMP_HEADER,
    Principal,
    Role,
    principal_headers,
    verify_principal_headers,
)
from shared.events import consumer as events_consumer
from shared.events.consumer import EventConsumer
from shared.problems import Unauthorized
from shared.runtime import DATA_DIR, DATABASE_SERVICES, infrastructure, prepare_databases
from shared.settings import DEV_INTERNAL_SECRET
from shared.testing import statuses
from shared.testing.kafka import skip_backlog

STATUSES_DIR = DATA_DIR / "test" / "statuses"


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    if not _is_worker(session.config):
        for old in STATUSES_DIR.glob("statuses-*.json"):
            old.unlink()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the run if an app answered a status its OpenAPI document does not list."""
    statuses.save(STATUSES_DIR)
    if _is_worker(session.config):
        return
    missing = statuses.undocumented(*statuses.load(STATUSES_DIR))
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", "answers the OpenAPI documents do not list", red=True)
            for line in missing:
                reporter.write_line(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_report_header() -> str:
    """Which day the tests believe it is: a failure on a set clock is reproducible."""
    where = f"{clock.ENV}={os.environ[clock.ENV]}" if os.environ.get(clock.ENV) else "the machine's"
    return f"clock: {clock.utcnow().isoformat(timespec='seconds')} ({where})"


# `make test` runs the suite in parallel processes (pytest-xdist): each has its own embedded
# PostgreSQL and broker under a directory of its own, so no test sees another's data.
TEST_DIR = DATA_DIR / "test" / os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def infra() -> Iterator[tuple[str, str]]:
    """(database server URL, Kafka bootstrap servers): embedded unless the env names real ones."""
    with infrastructure(data_dir=TEST_DIR) as pair:
        yield pair


@pytest.fixture(scope="session")
def database_urls(infra: tuple[str, str]) -> dict[str, str]:
    """Every service database, dropped, recreated and migrated once per test session."""
    server_url, _ = infra
    # Runs side by side (two checkouts, two agents) need their own databases: set the suffix.
    suffix = os.environ.get("B2B_TEST_DB_SUFFIX", "_test")
    return prepare_databases(server_url, DATABASE_SERVICES, suffix=suffix, fresh=True)


@pytest.fixture(scope="session")
def kafka_bootstrap(infra: tuple[str, str]) -> str:
    return infra[1]


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def truncate_all(url: str) -> None:
    conn = await asyncpg.connect(_dsn(url))
    try:
        tables = await conn.fetchval(
            "SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') FROM pg_tables "
            "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )
        if tables:
            await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def service_settings(
    database_urls: dict[str, str], kafka_bootstrap: str
) -> AsyncIterator[Callable[..., Any]]:
    """settings_for("accounts", run_workers=True): a service's Settings for this test.

    Every database a test touched is emptied after it, so tests never see each other's rows.
    """
    touched: set[str] = set()

    def settings_for(service: str, **overrides: Any) -> Any:
        module = importlib.import_module(f"services.{service}.settings")
        touched.add(service)
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": database_urls[service],
            "kafka_bootstrap_servers": kafka_bootstrap,
            "run_workers": False,
            "log_json": False,
            "data_dir": str(TEST_DIR / "files" / service),
        }
        values.update(overrides)
        return module.Settings(**values)

    yield settings_for
    for service in touched:
        if service in database_urls:
            await truncate_all(database_urls[service])


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    """Run the app's lifespan (pool, producer, workers) around a block."""
    async with app.router.lifespan_context(app):
        yield app


class RoutingTransport(httpx.AsyncBaseTransport):
    """Sends http://<service>/... to that service's ASGI app; other hosts over the network."""

    def __init__(self, apps: dict[str, FastAPI]) -> None:
        self.apps = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}
        self.network = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.apps.get(request.url.host, self.network)
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        await self.network.aclose()


def app_consumer(app: FastAPI, group: str, handlers: Any) -> EventConsumer:
    """A consumer of `group` over the app's own pool and publisher, as the app runs it: a
    test hands it envelopes (`apply`) without the broker."""
    settings = app.state.settings
    return EventConsumer(
        f"{settings.service_name}.{group}",
        handlers,
        app.state.sessionmaker,
        app.state.publisher,
        bootstrap_servers=settings.kafka_bootstrap_servers,
    )


def consumer_groups(module: Any, settings: Any) -> dict[str, set[str]]:
    """The consumer groups a service's app runs and their topics."""
    return events_consumer.consumer_groups(module, settings.consumer_group_suffix)


@pytest.fixture
async def start_app(service_settings: Callable[..., Any]) -> AsyncIterator[Callable[..., Any]]:
    """start_app("orders", upstreams={"pricing": app}, **settings) -> a started FastAPI app,
    stopped after the test. Calls to a service in `upstreams` go to that app in process."""
    stack = contextlib.AsyncExitStack()

    async def start(
        service: str,
        upstreams: dict[str, FastAPI] | None = None,
        from_now: bool | None = None,
        **overrides: Any,
    ) -> FastAPI:
        """`from_now`: the service's consumers skip what earlier tests left on the broker, in
        groups of their own, so no test depends on which ran before it. The default for a
        service running its workers; `from_now=False` (or a `consumer_group_suffix`) for a
        test that means to read what was published before it started."""
        module = importlib.import_module(f"services.{service}.app")
        for name in upstreams or {}:
            overrides.setdefault(f"{name}_url", f"http://{name}")
        if from_now is None:
            from_now = (
                bool(overrides.get("run_workers")) and "consumer_group_suffix" not in overrides
            )
        if from_now:  # its own groups: no member of an earlier test's app to wait for
            overrides["consumer_group_suffix"] = f"-{uuid.uuid4().hex[:8]}"
        settings = service_settings(service, **overrides)
        if from_now:
            for name, topics in consumer_groups(module, settings).items():
                await skip_backlog(settings.kafka_bootstrap_servers, name, topics)
        app = module.create_app(settings)
        app.state.upstream_transport = RoutingTransport(upstreams or {})
        statuses.record(app, service)
        await stack.enter_async_context(running(app))
        return app

    async with stack:
        yield start


async def _fresh_principal(request: httpx.Request) -> None:
    """Principal headers a test module signs at import outlive MAX_SKEW_SECONDS when a long run
    reaches the test minutes later: a correctly signed principal is signed again, now. A
    forged or wrongly signed one is left as it is, for the tests of refusals."""
    stamp = request.headers.get(TIMESTAMP_HEADER)
    if not request.headers.get(PRINCIPAL_HEADER) or not stamp or not stamp.isdigit():
        return
    try:
        found = verify_principal_headers(request.headers, DEV_INTERNAL_SECRET, now=float(stamp))
    except Unauthorized:
        return
    if found is not None:
        request.headers.update(principal_headers(found, DEV_INTERNAL_SECRET))


def client(app: FastAPI, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    """An HTTP client that goes through the ASGI app, as a caller would."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        headers=headers or {},
        event_hooks={"request": [_fresh_principal]},
    )


def principal(
    *roles: Role | str,
    company_id: uuid.UUID | None = None,
    subject: uuid.UUID | str | None = None,
    kind: str = "user",
    partner_code: str | None = None,
    companies: list[uuid.UUID] | None = None,
) -> Principal:
    return Principal(
        kind=kind,
        subject=subject or uuid.uuid4(),
        roles=frozenset(Role(r) for r in roles),
        company_id=company_id,
        companies=companies if companies is not None else ([company_id] if company_id else []),
        partner_code=partner_code,
    )


def signed(p: Principal, secret: str = DEV_INTERNAL_SECRET) -> dict[str, str]:
    """Headers as the gateway would forward them for principal `p`."""
    return principal_headers(p, secret)


def as_role(*roles: Role | str, **kwargs: Any) -> dict[str, str]:
    return signed(principal(*roles, **kwargs))
