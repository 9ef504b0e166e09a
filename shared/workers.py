"""Background loops, declared once. A service's `workers.py` lists `periodic(...)` loops; the
kernel runs them in the worker process. Each loop survives a failed step (logged, retried
after a growing pause), stops cleanly on cancel, and never needs a `while True` of its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI

log = logging.getLogger(__name__)
Worker = Callable[[FastAPI], Awaitable[None]]
Step = Callable[[FastAPI], Awaitable[Any]]
# gather what arrives just after a wake-up into the same step
COALESCE_SECONDS = 0.02


def backoff(
    attempt: int,
    base: float = 0.5,
    most: float = 30.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Exponential backoff with jitter: about base·2^(attempt-1) seconds, between half and all
    of it, never above `most`. `attempt` counts from 1 (the first failure)."""
    ceiling = min(most, base * 2 ** max(0, attempt - 1))
    return ceiling / 2 + ceiling / 2 * rand()


def _seconds(app: FastAPI, every: float | str) -> float:
    """`every` as a number of seconds: a number, or the name of a setting of the service."""
    if isinstance(every, str):
        return float(getattr(app.state.settings, every) or 0)
    return float(every)


def periodic(
    step: Step,
    *,
    every: float | str,
    name: str | None = None,
    at_start: bool = True,
    again: Callable[[Any], bool] = bool,
    wake: str | None = None,
) -> Worker:
    """A worker that runs `step(app)` every `every` seconds (a number, or the name of a setting;
    0 turns the worker off), the first time at once unless `at_start` is false.

    A step whose result `again` calls true (by default: any truthy result, such as a count of
    rows done) runs again at once, since more work may be waiting. `wake` names an
    `asyncio.Event` on `app.state` that cuts the pause short when new work arrives."""
    label = name or getattr(step, "__name__", "worker")

    async def loop(app: FastAPI) -> None:
        pause = _seconds(app, every)
        if not pause:
            return
        if not at_start:
            await asyncio.sleep(pause)
        failures = 0
        while True:
            try:
                result = await step(app)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                delay = backoff(failures)
                log.warning("%s failed; again in %.1fs", label, delay, exc_info=True)
                await asyncio.sleep(delay)
                continue
            if again(result):
                continue
            await _wait(app, pause, wake)

    loop.__name__ = loop.__qualname__ = label
    return loop


async def _wait(app: FastAPI, seconds: float, wake: str | None) -> None:
    if wake is None:
        await asyncio.sleep(seconds)
        return
    event: asyncio.Event = getattr(app.state, wake)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
    await asyncio.sleep(COALESCE_SECONDS)
    event.clear()
