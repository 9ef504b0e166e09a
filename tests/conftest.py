import asyncio
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.dialects.postgresql import insert

from services.notifications.store.models import Rule, Template
from services.notifications.usecases.builtins import rule_rows, template_rows
from shared.db import create_engine
from shared.runtime import free_port

pytest_plugins = ["shared.testing.fixtures"]

# Tests whose outcome could depend on the day they run: months and periods (analytics), price
# validity, ladders and contract ends (pricing), reservation expiry (catalog), quote validity
# (orders), invitations (accounts), quiet hours and digests (notifications). `make test-dates`
# runs them with the clock (B2B_CLOCK) on the 1st, the 15th and the last day of a month, on
# 29 February and on 31 December.
DATE_SENSITIVE = (
    "accounts/test_contacts.py",
    "accounts/test_contact_feeds.py",
    "accounts/test_people.py",
    "accounts/test_statements.py",
    "analytics/",
    "catalog/test_availability.py",
    "catalog/test_reservations.py",
    "orders/test_delays.py",
    "orders/test_quotes.py",
    "orders/test_lifecycle.py",
    "orders/test_shipments.py",
    "pricing/test_prices.py",
    "pricing/test_governance.py",
    "pricing/test_list_edits.py",
    "pricing/test_matrix_beside_lists.py",
    "pricing/test_policy_api.py",
    "pricing/test_price_feed.py",
    "pricing/test_resolution_rules.py",
    "pricing/test_segments.py",
    "pricing/test_client_alerts.py",
    "pricing/test_simulate.py",
    "notifications/test_domain.py",
    "notifications/test_channels.py",
    "notifications/test_people.py",
    "notifications/test_client_alerts.py",
    "notifications/test_rules_through_the_broker.py",
    "notifications/test_order_delays.py",
)
TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        where = item.path.relative_to(TESTS).as_posix()
        if where.startswith(DATE_SENSITIVE):
            item.add_marker(pytest.mark.dates)


@pytest.fixture
async def notification_rules(database_urls):
    """The built-in rules and templates the migration seeds, which the fixtures empty after
    every test that touches notifications."""
    engine = create_engine(database_urls["notifications"], pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(Rule).values(rule_rows()).on_conflict_do_nothing())
            await conn.execute(insert(Template).values(template_rows()).on_conflict_do_nothing())
    finally:
        await engine.dispose()


@pytest.fixture
async def serve():
    """serve(app) -> its base URL: the app behind a real uvicorn socket, for what ASGI in
    process cannot show (timeouts, chunked uploads over the wire, a client in another process)."""
    servers: list[tuple[uvicorn.Server, asyncio.Task]] = []

    async def start(app: FastAPI) -> str:
        port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        servers.append((server, task))
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        return f"http://127.0.0.1:{port}"

    yield start
    for server, task in servers:
        server.should_exit = True
        await task
