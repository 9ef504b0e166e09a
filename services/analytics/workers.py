"""Every background loop of analytics, run in the worker process: the recompute of the clients
events touched, the periodic full recompute, the price-change checks and the cross-sell offer
job (the flows are in `usecases/`). Each step is one transaction."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI

from services.analytics.settings import Settings
from services.analytics.usecases.cross_sell_offers import offer_cross_sell
from services.analytics.usecases.price_checks import check_next_price_change
from services.analytics.usecases.recompute import recompute_all, recompute_dirty
from shared.workers import periodic

log = logging.getLogger(__name__)


def _settings(app: FastAPI) -> Settings:
    return app.state.settings


async def recompute_dirty_clients(app: FastAPI) -> dict[str, Any]:
    """A batch of the clients events touched."""
    async with app.state.sessionmaker() as session, session.begin():
        return await recompute_dirty(session, _settings(app))


async def recompute_base(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        result = await recompute_all(session, _settings(app))
    log.info("segments recomputed", extra={"result": result})


async def check_price_change(app: FastAPI) -> bool:
    """The oldest queued price change, if any."""
    async with app.state.sessionmaker() as session, session.begin():
        return await check_next_price_change(session, app.state.upstreams, _settings(app))


async def offer_cross_sell_now(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        offered = await offer_cross_sell(session, _settings(app))
    log.info("cross-sell offers made", extra={"clients": offered})


WORKERS = [
    # a full batch may leave more waiting: the next one at once
    periodic(
        recompute_dirty_clients,
        every="dirty_poll_seconds",
        again=lambda result: bool(result["clients"]),
        name="recompute_dirty_clients",
    ),
    # the heavy passes wait a whole interval first: a (re)start does not set them off
    periodic(
        recompute_base,
        every="recompute_interval_seconds",
        at_start=False,
        name="recompute_periodically",
    ),
    periodic(check_price_change, every="price_check_poll_seconds", name="check_price_changes"),
    periodic(
        offer_cross_sell_now,
        every="cross_sell_offer_interval_seconds",
        at_start=False,
        name="offer_cross_sell_periodically",
    ),
]
