"""The orders service's background loops, run in the worker process (and once at its
start-up): the checkout saga's recovery and the feed jobs (delivery tariffs)."""

from __future__ import annotations

from fastapi import FastAPI

from services.orders.api.feeds import SPECS
from services.orders.usecases.context import Collaborators
from services.orders.usecases.recovery import recover_checkouts
from shared.feeds import feed_worker
from shared.workers import periodic

RECOVERY_POLL_SECONDS = 10.0


async def recover_once(app: FastAPI) -> int:
    """One pass of the recovery over the running application's database and services."""
    return await recover_checkouts(Collaborators.of(app))


# A pass finishes what it finds; the next one waits for the poll, whatever it did.
WORKERS = [
    periodic(
        recover_once, every=RECOVERY_POLL_SECONDS, name="checkout_recovery", again=lambda _: False
    ),
    feed_worker(SPECS),
]
