"""The catalog service's background loops, run in the worker process: the feed jobs (the
kernel's feed worker over the catalog, stock, category and attribute feeds) and the expiry of
reservations nobody confirmed in time."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from services.catalog.api.feeds import SPECS
from services.catalog.usecases.reservations import expire_due
from shared.feeds import feed_worker
from shared.workers import periodic

log = logging.getLogger(__name__)
EXPIRY_POLL_SECONDS = 5.0


async def expire_reservations(app: FastAPI) -> int:
    """One batch of expired reservations released; a full batch runs again at once."""
    async with app.state.sessionmaker() as session, session.begin():
        released = await expire_due(session)
    if released:
        log.info("released %d expired reservations", released)
    return released


WORKERS = [
    feed_worker(SPECS),
    periodic(expire_reservations, every=EXPIRY_POLL_SECONDS, name="expire_reservations"),
]
