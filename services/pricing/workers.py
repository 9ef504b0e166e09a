"""The pricing service's background loops: in the worker process the feed jobs (the kernel's
feed worker over the price and list feeds) and the daily check of contract prices that end
soon; in every process the listener that drops the cached prices other processes changed."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI

from services.pricing.api.feeds import SPECS
from services.pricing.price_book.engine import apply_price_change
from services.pricing.settings import Settings
from services.pricing.usecases.alerts import announce_expiring_prices
from shared.contracts.pricing import PRICE_TOPIC, PriceChangedV1
from shared.events.envelope import CloudEvent
from shared.events.kafka import create_topics
from shared.feeds import feed_worker
from shared.workers import periodic

log = logging.getLogger(__name__)


async def announce_contract_expiry(app: FastAPI) -> int:
    """Announce contract prices that end soon. Each (client, end date) is claimed in the
    transaction that writes its event, so a restart or a second process does not announce it
    again."""
    settings: Settings = app.state.settings
    async with app.state.sessionmaker() as session, session.begin():
        announced = await announce_expiring_prices(session, settings)
    if announced:
        log.info("contract prices ending soon announced", extra={"clients": announced})
    return announced


async def listen_for_price_changes(app: FastAPI) -> None:
    """Every process hears every price.changed, from the latest offset. No consumer group:
    each process reads all partitions itself, and starting or stopping costs no rebalance."""
    settings = app.state.settings
    while True:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False
        )
        try:
            await create_topics(settings.kafka_bootstrap_servers, {PRICE_TOPIC})
            await consumer.start()
            partitions = consumer.partitions_for_topic(PRICE_TOPIC) or set()
            consumer.assign([TopicPartition(PRICE_TOPIC, p) for p in sorted(partitions)])
            await consumer.seek_to_end()
            async for message in consumer:
                envelope = CloudEvent.model_validate_json(message.value or b"{}")
                if envelope.type == PriceChangedV1.full_type():
                    apply_price_change(
                        app.state.price_engine, PriceChangedV1.model_validate(envelope.data)
                    )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("price cache listener: reconnecting")
            # Whatever was missed while away: start again from a clean cache.
            app.state.price_engine.invalidate(lists=True, clients=None)
            await asyncio.sleep(2)
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()


WORKERS = [
    feed_worker(SPECS),
    periodic(
        announce_contract_expiry,
        every="contract_expiry_check_seconds",
        name="check_contract_expiry",
        again=lambda _: False,
    ),
]
BACKGROUND = [listen_for_price_changes]  # every process, workers or not
