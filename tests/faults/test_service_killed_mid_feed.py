"""A service is killed (SIGKILL) while it applies an ERP feed: nothing of the feed is applied,
the job is resumed when a worker runs again, and posting the same file with the same
Idempotency-Key gives back the same job instead of a second one. In the end every row is
applied exactly once.

The service runs as its own uvicorn process over a real socket, so the kill is a real crash.
"""

from __future__ import annotations

import asyncio
import time

import httpx
from sqlalchemy import text

from bench.stack import ServiceProcess
from shared.auth import Role
from shared.feeds import worker
from shared.testing.fixtures import as_role, client


def erp() -> dict[str, str]:
    """Signed now: signed at import, it expires (5 minutes) before a long run gets here."""
    return as_role(Role.INTEGRATOR, kind="api_key", subject="erp-crash")


ROWS = 150_000
KEY = {"Idempotency-Key": "clients-crash-1", "Content-Type": "text/csv"}


def clients_feed() -> bytes:
    lines = ["external_id,legal_name,credit_limit_minor"]
    lines += [f"C-{i},Client {i} LLC,{1000 + i}" for i in range(ROWS)]
    return ("\n".join(lines) + "\n").encode()


async def scalar(app, sql: str):
    async with app.state.sessionmaker() as session:
        return await session.scalar(text(sql))


async def test_a_feed_interrupted_by_a_crash_is_all_or_nothing_and_resumes(
    start_app, service_settings, monkeypatch, tmp_path
):
    settings = service_settings("accounts")
    feed = clients_feed()
    process = ServiceProcess(
        "accounts",
        settings.database_url,
        settings.kafka_bootstrap_servers,
        str(tmp_path / "files"),
        env={"ACCOUNTS_RUN_WORKERS": "true"},
    )
    try:
        await process.ready()
        async with httpx.AsyncClient(base_url=process.url, headers=erp(), timeout=60) as http:
            accepted = await http.post("/feeds/clients", content=feed, headers=KEY)
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["id"]
        # An observer app on the same database (no workers) to watch and, later, to resume.
        observer = await start_app("accounts", data_dir=str(tmp_path / "files"))
        deadline = time.monotonic() + 120
        while await scalar(observer, f"SELECT state FROM feed_jobs WHERE id = '{job_id}'") != (
            "applying"
        ):
            assert time.monotonic() < deadline, "the job never started applying"
            await asyncio.sleep(0.01)
        process.process.kill()  # SIGKILL in the middle of the apply transaction
        process.process.wait(10)
    finally:
        process.stop()

    assert await scalar(observer, "SELECT count(*) FROM companies") == 0
    assert await scalar(observer, "SELECT count(*) FROM outbox") == 0
    assert await scalar(observer, f"SELECT state FROM feed_jobs WHERE id = '{job_id}'") == (
        "applying"
    )

    # The file comes again with its key: the same job, not a second application.
    async with client(observer, erp()) as http:
        again = await http.post("/feeds/clients", content=feed, headers=KEY)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == job_id

    # A worker starts again (here in process) and takes the job whose heartbeat stopped.
    monkeypatch.setattr(worker, "STALE_SECONDS", 1)
    resumed = await start_app("accounts", data_dir=str(tmp_path / "files"), run_workers=True)
    deadline = time.monotonic() + 180
    while await scalar(resumed, f"SELECT state FROM feed_jobs WHERE id = '{job_id}'") != (
        "succeeded"
    ):
        assert time.monotonic() < deadline, "the job was not resumed"
        await asyncio.sleep(0.5)
    assert await scalar(resumed, f"SELECT attempts FROM feed_jobs WHERE id = '{job_id}'") == 2
    assert await scalar(resumed, "SELECT count(*) FROM companies") == ROWS
    assert await scalar(resumed, "SELECT count(DISTINCT external_id) FROM companies") == ROWS
    assert await scalar(resumed, "SELECT count(*) FROM feed_jobs") == 1
