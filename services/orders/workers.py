"""The orders service's background loops, run in the worker process (and once at its
start-up): the checkout saga's recovery, the check for promised windows missed, and the feed
jobs (delivery tariffs)."""

from __future__ import annotations

from fastapi import FastAPI

from services.orders.api.feeds import SPECS
from services.orders.usecases.context import Collaborators
from services.orders.usecases.delays import MISSED_BATCH, tell_missed_windows
from services.orders.usecases.recovery import recover_checkouts
from shared.feeds import feed_worker
from shared.workers import periodic

RECOVERY_POLL_SECONDS = 10.0
# A window misses by the day: a check every few minutes tells a slip on the morning after.
MISSED_WINDOWS_POLL_SECONDS = 300.0


async def recover_once(app: FastAPI) -> int:
    """One pass of the recovery over the running application's database and services."""
    return await recover_checkouts(Collaborators.of(app))


async def missed_windows_once(app: FastAPI) -> int:
    """One pass of the missed-window check over the running application's database."""
    return await tell_missed_windows(app.state.sessionmaker)


WORKERS = [
    # A pass finishes what it finds; the next one waits for the poll, whatever it did.
    periodic(
        recover_once, every=RECOVERY_POLL_SECONDS, name="checkout_recovery", again=lambda _: False
    ),
    # A full batch runs again at once: more windows may have been missed.
    periodic(
        missed_windows_once,
        every=MISSED_WINDOWS_POLL_SECONDS,
        name="missed_windows",
        again=lambda told: told >= MISSED_BATCH,
    ),
    feed_worker(SPECS),
]
