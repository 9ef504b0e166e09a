"""The kernel's periodic worker: the one loop every service's background work runs in."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from shared.workers import backoff, periodic


def _app(**state: object) -> SimpleNamespace:
    return SimpleNamespace(state=SimpleNamespace(**state))


async def _run_until(worker, app, done: asyncio.Event, seconds: float = 2.0) -> None:
    task = asyncio.create_task(worker(app))
    try:
        await asyncio.wait_for(done.wait(), seconds)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_worker_whose_setting_is_zero_never_runs():
    calls = []

    async def step(app):
        calls.append(1)

    worker = periodic(step, every="check_seconds")
    await asyncio.wait_for(worker(_app(settings=SimpleNamespace(check_seconds=0))), 1)
    assert calls == []
    assert worker.__name__ == "step"


async def test_a_busy_step_runs_again_at_once_and_a_quiet_one_waits():
    results = [5, 3, 0, 7]
    seen: list[int] = []
    done = asyncio.Event()

    async def step(app):
        seen.append(results[len(seen)])
        if len(seen) == 3:
            done.set()
        return seen[-1]

    await _run_until(periodic(step, every=60), _app(), done)
    await asyncio.sleep(0.05)
    # 5 and 3 said "more may wait"; 0 made it wait out the minute: the 7 never came
    assert seen == [5, 3, 0]


async def test_a_failing_step_is_retried_and_the_loop_goes_on(caplog):
    attempts = []
    done = asyncio.Event()

    async def step(app):
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("database away")
        done.set()

    await _run_until(periodic(step, every=0.01, name="flaky"), _app(), done, seconds=5)
    assert len(attempts) == 3
    assert sum(r.getMessage().startswith("flaky failed") for r in caplog.records) == 2


async def test_the_wake_event_cuts_the_pause_short():
    runs = []
    done = asyncio.Event()
    app = _app(new_work=asyncio.Event())

    async def step(app):
        runs.append(1)
        if len(runs) == 2:
            done.set()
        return 0

    task = asyncio.create_task(periodic(step, every=3600, wake="new_work")(app))
    await asyncio.sleep(0.05)
    assert runs == [1]
    app.state.new_work.set()
    await asyncio.wait_for(done.wait(), 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not app.state.new_work.is_set()


async def test_a_worker_that_waits_first_does_not_run_at_start():
    runs = []

    async def step(app):
        runs.append(1)

    task = asyncio.create_task(periodic(step, every=3600, at_start=False)(_app()))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert runs == []


def test_the_pause_after_failures_grows_and_stays_bounded():
    assert 0.25 <= backoff(1) <= 0.5
    assert 2 <= backoff(4) <= 4
    assert 15 <= backoff(50) <= 30
