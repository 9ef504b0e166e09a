"""The AsyncAPI document says what a consumer gets, exactly: valid AsyncAPI 3.0, every
CloudEvent attribute required, the true record key, and examples (and real records) that the
`cloudevents` SDK reads in the mode the document states."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import jsonschema
import orjson
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka_event, from_structured_event

from b2b.apidocs import OPENAPI_DIR
from b2b.asyncapi import CONTENT_TYPE, example_data
from shared.contracts.orders import OrderPlacedV1
from shared.db import create_engine, create_sessionmaker
from shared.events.envelope import all_contracts
from shared.events.kafka import Publisher
from shared.events.outbox import record_event
from shared.events.relay import OutboxRelay
from shared.testing.kafka import read_topic

ASYNCAPI_3_SCHEMA = Path(__file__).parent / "schemas" / "asyncapi-3.0.0.json"
ENVELOPE_ATTRIBUTES = {"id", "specversion", "source", "type", "time"}


def asyncapi_document() -> dict:
    """The published document (test_generated_files keeps it what the code generates)."""
    return json.loads((OPENAPI_DIR / "asyncapi.json").read_text())


def _messages() -> dict[str, dict]:
    return asyncapi_document()["components"]["messages"]


def test_the_document_is_valid_asyncapi_3():
    """Against the AsyncAPI 3.0.0 JSON schema, Kafka bindings included (@asyncapi/specs 6.11.1)."""
    schema = json.loads(ASYNCAPI_3_SCHEMA.read_text())
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(asyncapi_document()))
    assert errors == [], [e.message[:300] for e in errors[:5]]


def test_the_envelope_requires_every_attribute_and_specversion_is_1_0():
    envelope = asyncapi_document()["components"]["schemas"]["CloudEvent"]
    assert ENVELOPE_ATTRIBUTES | {"subject", "datacontenttype", "data"} <= set(envelope["required"])
    assert envelope["properties"]["specversion"]["const"] == "1.0"
    assert "title" not in envelope["properties"]["data"]


def test_each_event_has_a_payload_schema_of_its_own():
    """Not one `Data` class for all: each message's payload is a named schema whose `data` is
    the event's contract."""
    document = asyncapi_document()
    schemas = document["components"]["schemas"]
    payloads = set()
    for name, message in _messages().items():
        ref = message["payload"]["$ref"]
        payloads.add(ref)
        named = schemas[ref.rsplit("/", 1)[-1]]
        data = next(p["properties"]["data"] for p in named["allOf"] if "properties" in p)
        assert data == {"$ref": f"#/components/schemas/{name}"}
    assert len(payloads) == len(all_contracts())


def test_the_record_key_stated_is_the_one_the_contract_uses():
    """Order and quote events are keyed by their company, which the document says."""
    messages = _messages()
    for contract in all_contracts().values():
        message = messages[contract.__name__]
        field = message["x-key"].removeprefix("data.")
        assert f"`data.{field}`" in message["bindings"]["kafka"]["key"]["description"]
        event = contract.model_validate(example_data(contract))
        assert str(getattr(event, field)) == event.aggregate_id()
    assert messages["OrderPlacedV1"]["x-key"] == "data.company_id"
    assert messages["QuoteRequestedV1"]["x-key"] == "data.company_id"


def test_every_contract_is_keyed_by_a_required_field_of_its_own():
    """A key naming no field, or an optional one, would leave records unkeyed or out of order."""
    for contract in all_contracts().values():
        field = contract.model_fields.get(contract.aggregate_key)
        assert field is not None and field.is_required(), contract.__name__


def test_servers_and_kafka_bindings():
    document = asyncapi_document()
    assert document["servers"]["embedded"]["protocol"] == "kafka"
    assert document["servers"]["embedded"]["host"] == "127.0.0.1:9092"
    for topic, channel in document["channels"].items():
        assert channel["bindings"]["kafka"]["topic"] == topic
    groups = {
        op["bindings"]["kafka"]["groupId"]["const"]: op["channel"]["$ref"]
        for op in document["operations"].values()
        if op["action"] == "receive"
    }
    assert groups["orders.orders"] == "#/channels/catalog.stock"


def test_every_example_is_read_by_the_cloudevents_sdk_in_structured_mode():
    document = asyncapi_document()
    assert "structured content mode" in document["info"]["description"]
    for name, message in _messages().items():
        (example,) = message["examples"]
        payload = example["payload"]
        schema = {"components": document["components"], "$ref": message["payload"]["$ref"]}
        jsonschema.Draft202012Validator(schema).validate(payload)
        record = KafkaMessage(
            headers={"content-type": CONTENT_TYPE},
            key=payload["subject"].encode(),
            value=orjson.dumps(payload),
        )
        for read in (from_structured_event, from_kafka_event):
            event = read(record)
            assert event.get_id() == payload["id"], name
            assert event.get_specversion() == "1.0"
            assert event.get_source() == payload["source"]
            assert event.get_type() == message["name"]
            assert event.get_time() is not None
            assert event.get_data() == payload["data"]
            assert event.get_extension("partitionkey") == str(
                payload["data"][message["x-key"].removeprefix("data.")]
            )
        all_contracts()[message["name"]].model_validate(payload["data"])


async def test_a_published_event_is_read_by_the_cloudevents_sdk_as_the_document_says(
    service_settings, kafka_bootstrap
):
    """Through the outbox and the relay onto the real broker: structured mode (no `ce_`
    header, which would make `from_kafka_event` take it for binary mode), keyed by the company."""
    settings = service_settings("orders")
    engine = create_engine(settings.database_url, pool_size=2)
    sessionmaker = create_sessionmaker(engine, service="orders")
    company = uuid.uuid4()
    placed = OrderPlacedV1.model_validate({**example_data(OrderPlacedV1), "company_id": company})
    publisher = Publisher(kafka_bootstrap, "test")
    try:
        async with sessionmaker() as session:
            envelope = record_event(session, placed)
            await session.commit()
        assert await OutboxRelay(sessionmaker, publisher).drain() >= 1
    finally:
        await publisher.close()
        await engine.dispose()
    deadline = time.monotonic() + 10
    mine = []
    while not mine and time.monotonic() < deadline:
        records = await read_topic(kafka_bootstrap, OrderPlacedV1.topic, expect=1)
        mine = [r for r in records if orjson.loads(r.value)["id"] == str(envelope.id)]
        await asyncio.sleep(0.1 if not mine else 0)
    (record,) = mine
    headers = {name: value for name, value in record.headers}
    assert not [name for name in headers if name.lower().startswith("ce_")]
    assert headers["content-type"] == CONTENT_TYPE.encode()
    message = KafkaMessage(headers=headers, key=record.key, value=record.value)
    for read in (from_structured_event, from_kafka_event):
        event = read(message)
        assert event.get_id() == str(envelope.id)
        assert event.get_type() == "com.b2b.order.placed.v1"
        assert event.get_source() == "/b2b/orders"
        assert event.get_time() is not None
        assert event.get_data() == placed.model_dump(mode="json")
        assert event.get_extension("partitionkey") == str(company)
    key = _messages()["OrderPlacedV1"]["x-key"].removeprefix("data.")
    assert record.key.decode() == str(getattr(placed, key))
