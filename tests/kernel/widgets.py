"""A tiny test-only aggregate ("widget") to exercise the kernel against a real database."""

from __future__ import annotations

import dataclasses
import uuid

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.app import SPEC
from shared.app import build_app
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.events.envelope import CloudEvent, EventContract
from shared.events.outbox import record_event
from shared.problems import Conflict

WIDGETS_DDL = """
CREATE TABLE IF NOT EXISTS widgets (id uuid PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS widget_effects (event_id uuid NOT NULL, widget_id uuid NOT NULL);
"""


class WidgetCreatedV1(EventContract):
    """Test-only: a widget was created. Not registered (the product's events are): the
    consumers of these tests are handed it."""

    event_type = "test.widget.created.v1"
    topic = "test.widget"
    aggregate_type = "widget"
    aggregate_key = "widget_id"

    widget_id: uuid.UUID
    name: str


class WidgetCreate(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    fail_after_write: bool = False


router = APIRouter()


@router.post("/widgets", status_code=201)
async def create_widget(
    body: WidgetCreate, session: SessionDep, _: allow(Role.ADMIN)
) -> dict[str, str]:
    widget_id = uuid.uuid4()
    await session.execute(
        text("INSERT INTO widgets (id, name) VALUES (:id, :name)"),
        {"id": widget_id, "name": body.name},
    )
    record_event(session, WidgetCreatedV1(widget_id=widget_id, name=body.name))
    await session.flush()
    if body.fail_after_write:
        raise Conflict("Failing on purpose after the write.")
    return {"id": str(widget_id), "name": body.name}


def widget_app(settings) -> FastAPI:
    return build_app(dataclasses.replace(SPEC, routers=[router]), settings)


async def create_widget_tables(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(WIDGETS_DDL)
    finally:
        await conn.close()


async def record_effect(event: WidgetCreatedV1, session: AsyncSession) -> None:
    """The consumer's effect: one row per applied event."""
    await session.execute(
        text("INSERT INTO widget_effects (event_id, widget_id) VALUES (gen_random_uuid(), :w)"),
        {"w": event.widget_id},
    )


async def publish_raw(bootstrap: str, envelope: CloudEvent) -> ConsumerRecord:
    """The envelope on the widget topic, keyed by its subject, as a consumer receives it."""
    return await send_record(
        bootstrap,
        WidgetCreatedV1.topic,
        orjson.dumps(envelope.model_dump(mode="json")),
        envelope.subject.encode(),
    )


async def send_record(
    bootstrap: str, topic: str, value: bytes, key: bytes, headers: tuple = ()
) -> ConsumerRecord:
    """Produce one record and return it as a consumer would see it."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        meta = await producer.send_and_wait(topic, value=value, key=key, headers=list(headers))
    finally:
        await producer.stop()
    return ConsumerRecord(
        topic=topic,
        partition=meta.partition,
        offset=meta.offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key),
        serialized_value_size=len(value),
        headers=headers,
    )
