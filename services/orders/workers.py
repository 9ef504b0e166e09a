"""The orders service's background loops, run in the worker process (and once at its
start-up): the checkout saga's recovery."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from services.orders.usecases.context import Collaborators
from services.orders.usecases.recovery import recover_checkouts

log = logging.getLogger(__name__)
RECOVERY_POLL_SECONDS = 10.0


async def recover_once(app: FastAPI) -> int:
    """One pass of the recovery over the running application's database and services."""
    return await recover_checkouts(Collaborators.of(app))


async def checkout_recovery(app: FastAPI) -> None:
    while True:
        try:
            await recover_once(app)
        except Exception:
            log.exception("checkout recovery failed; retrying")
        await asyncio.sleep(RECOVERY_POLL_SECONDS)


WORKERS = [checkout_recovery]
