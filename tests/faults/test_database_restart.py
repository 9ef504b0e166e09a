"""The database restarts while clients keep calling: every call gets an answer within seconds
(503 problems while it is down, never a hang or a 500), and the service recovers by itself
when the database is back: requests succeed and the outbox relay publishes again.

The test runs its own PostgreSQL, so stopping it disturbs no other test.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from sqlalchemy import text

from shared.auth import Role
from shared.runtime import EmbeddedPostgres, prepare_databases
from shared.testing.fixtures import as_role, client
from tests.stack import eventually

ADMIN = as_role(Role.ADMIN)
SLOWEST_ANSWER_SECONDS = 12.0  # connect timeout 5 s, pool timeout 10 s: never minutes


async def test_clients_get_503_while_the_database_restarts_and_the_service_recovers(
    start_app, tmp_path
):
    pg = EmbeddedPostgres(tmp_path / "pg")
    server_url = await asyncio.to_thread(pg.start)
    try:
        urls = await asyncio.to_thread(prepare_databases, server_url, ("accounts",))
        app = await start_app("accounts", database_url=urls["accounts"], run_workers=True)
        answers: Counter[int] = Counter()
        slowest = 0.0
        running = True

        async def caller(n: int) -> None:
            nonlocal slowest
            i = 0
            async with client(app, ADMIN) as http:
                while running:
                    i += 1
                    started = time.monotonic()
                    if i % 2:
                        answer = await http.get("/companies?limit=5")
                    else:
                        answer = await http.post(
                            "/companies",
                            json={"legal_name": f"Caller {n}-{i}", "currency": "EUR"},
                        )
                    slowest = max(slowest, time.monotonic() - started)
                    answers[answer.status_code] += 1
                    if answer.status_code == 503:
                        problem = answer.json()
                        assert answer.headers["content-type"] == "application/problem+json"
                        assert problem["type"].endswith("/database-unavailable")
                        assert answer.headers["retry-after"]
                    await asyncio.sleep(0.02)

        callers = [asyncio.create_task(caller(n)) for n in range(4)]
        await asyncio.sleep(1.0)
        before_stop = sum(answers.values())
        await asyncio.to_thread(pg.stop)
        await asyncio.sleep(3.0)
        down = dict(answers)
        assert await asyncio.to_thread(pg.start) == server_url
        await eventually(lambda: _succeeds(app))
        await asyncio.sleep(1.0)
        running = False
        await asyncio.gather(*callers)

        assert before_stop > 0
        assert down.get(503, 0) > 0, down
        assert set(answers) <= {200, 201, 503}, answers  # no 500, no other failure
        assert slowest < SLOWEST_ANSWER_SECONDS
        async with app.state.sessionmaker() as session:
            created = await session.scalar(text("SELECT count(*) FROM companies"))
        assert created == answers[201]  # every 201 is a company kept, nothing more

        async def outbox_drained() -> bool:
            async with app.state.sessionmaker() as session:
                held = await session.scalar(
                    text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                )
            return held == 0

        await eventually(outbox_drained)
    finally:
        await asyncio.to_thread(pg.stop)


async def _succeeds(app) -> bool:
    async with client(app, ADMIN) as http:
        return (await http.get("/companies?limit=1")).status_code == 200
