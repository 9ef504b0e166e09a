"""The AsyncAPI 3.0 document of every topic and event type: what a consumer (or a generator
such as Modelina) needs to read our Kafka records without reading our Python."""

from __future__ import annotations

import importlib
import uuid
import zlib
from datetime import UTC, datetime
from typing import Any

from shared.events.consumer import consumer_groups
from shared.events.envelope import (
    CONTENT_TYPE,
    EVENT_TYPE_HEADER,
    CloudEvent,
    EventContract,
    all_contracts,
)
from shared.events.kafka import DEFAULT_PARTITIONS
from shared.runtime import PORTS

KAFKA_BINDING = "0.5.0"
SERVER = "embedded"
# `make run` starts the broker here (b2b/cli.py); a deployment sets KAFKA_BOOTSTRAP_SERVERS.
BROKER = "127.0.0.1:9092"
EXAMPLE_TIME = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
EXAMPLE_STRINGS = {"currency": "EUR", "sku": "KN-100", "number": "SO-000123"}

DESCRIPTION = (
    "Every event travels in a CloudEvents 1.0 envelope serialised as JSON, in the Kafka "
    "binding's structured content mode: the record value is the whole envelope, the record "
    f"header `content-type` is `{CONTENT_TYPE}`, the header `{EVENT_TYPE_HEADER}` repeats the "
    "envelope's `type` (so a consumer can skip the types it does not handle without parsing "
    "the record), and no `ce_` header is sent. With the Python "
    "`cloudevents` SDK read a record with `cloudevents.core.bindings.kafka.from_structured_event` "
    "(or `from_kafka_event`, which finds structured mode as there is no `ce_` header; SDK 1.x: "
    "`cloudevents.kafka.from_structured`). Every "
    "envelope carries `id`, `specversion` 1.0, `source`, `type`, `subject`, `time`, "
    "`datacontenttype` and `data`. The `type` carries the version "
    "(com.b2b.<aggregate>.<fact>.v<N>); a published version never changes. The record key is "
    "said per message (`bindings.kafka.key`): one key's events stay in order, so order and "
    "quote events are keyed by their company, not the order or quote. The envelope's `subject` "
    "is the same key. Delivery is at least once: deduplicate by the envelope `id`. An event "
    "recorded in a traced request also carries that request's W3C `traceparent` (and "
    "`tracestate`), the CloudEvents distributed-tracing extension: a consumer continues the "
    "trace from it."
)


def asyncapi_document() -> dict[str, Any]:
    """A channel per topic, a message per event type with its own named payload schema, the
    send operation of each message and the receive operations of our consumer groups."""
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"CloudEvent": envelope_schema()}
    operations: dict[str, Any] = {}
    for event_type, contract in sorted(all_contracts().items()):
        name = contract.__name__
        schema = contract.model_json_schema(ref_template="#/components/schemas/{model}")
        for def_name, definition in schema.pop("$defs", {}).items():
            schemas[def_name] = definition
        schemas[name] = schema
        schemas[f"{name}Event"] = {
            "title": f"{name}Event",
            "description": f"The CloudEvent of {event_type}.",
            "allOf": [
                {"$ref": "#/components/schemas/CloudEvent"},
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": event_type},
                        "data": {"$ref": f"#/components/schemas/{name}"},
                    },
                },
            ],
        }
        key = key_field(contract)
        messages[name] = {
            "name": event_type,
            "title": name,
            "summary": (contract.__doc__ or "").strip() or event_type,
            "contentType": CONTENT_TYPE,
            "headers": {
                "type": "object",
                "properties": {
                    "content-type": {"const": CONTENT_TYPE},
                    EVENT_TYPE_HEADER: {"const": event_type},
                },
                "required": ["content-type", EVENT_TYPE_HEADER],
            },
            "payload": {"$ref": f"#/components/schemas/{name}Event"},
            "correlationId": {"location": "$message.payload#/id"},
            "bindings": {
                "kafka": {
                    "key": {
                        "type": "string",
                        "description": f"`data.{key}`, the {key.removesuffix('_id')} "
                        "(also the envelope's `subject`)",
                    },
                    "bindingVersion": KAFKA_BINDING,
                }
            },
            "x-key": f"data.{key}",
            "examples": [{"name": name, "payload": example_envelope(contract)}],
        }
        channel = channels.setdefault(
            contract.topic,
            {
                "address": contract.topic,
                "messages": {},
                "servers": [{"$ref": f"#/servers/{SERVER}"}],
                "bindings": {
                    "kafka": {
                        "topic": contract.topic,
                        "partitions": DEFAULT_PARTITIONS,
                        "bindingVersion": KAFKA_BINDING,
                    }
                },
                "x-keys": {},
            },
        )
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
        channel["x-keys"][event_type] = f"data.{key}"
        operations[f"publish{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{_escape(contract.topic)}"},
            "messages": [{"$ref": f"#/channels/{_escape(contract.topic)}/messages/{name}"}],
        }
    for channel in channels.values():
        keys = channel.pop("x-keys")
        channel["description"] = "Keyed by " + "; ".join(
            f"{field} for {', '.join(sorted(t for t, f in keys.items() if f == field))}"
            for field in sorted(set(keys.values()))
        )
    operations |= receive_operations(channels)
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "B2B commerce events", "version": "1", "description": DESCRIPTION},
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            SERVER: {
                "host": BROKER,
                "protocol": "kafka",
                "description": "The Kafka-protocol broker (Tansu) that `make run` starts; a "
                "deployment's brokers are its KAFKA_BOOTSTRAP_SERVERS.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def envelope_schema() -> dict[str, Any]:
    """The envelope as it is sent: every attribute required, `data` left to each event's own
    schema (a title here would make generators type every event's data as one class)."""
    schema = CloudEvent.model_json_schema(mode="serialization")
    schema["properties"]["data"].pop("title", None)
    schema["description"] = "A CloudEvents 1.0 envelope in JSON (structured content mode)."
    return schema


def key_field(contract: type[EventContract]) -> str:
    """The field of `data` the record key (the aggregate id) is taken from."""
    return contract.aggregate_key


def example_envelope(contract: type[EventContract]) -> dict[str, Any]:
    event = contract.model_validate(example_data(contract))
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, contract.full_type())),
        "source": "/b2b/" + contract.__module__.rsplit(".", 1)[-1],
        "type": contract.full_type(),
        "subject": event.aggregate_id(),
        "time": EXAMPLE_TIME.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": event.model_dump(mode="json"),
    }


def example_data(contract: type[EventContract]) -> dict[str, Any]:
    """A made-up `data` with every field filled: the same on every run, each value its own."""
    schema = contract.model_json_schema()
    value = _example(schema, schema.get("$defs", {}), "")
    assert isinstance(value, dict)
    return value


def _example(schema: dict[str, Any], defs: dict[str, Any], name: str) -> Any:
    if "$ref" in schema:
        return _example(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, name)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return _example(options[0], defs, name)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {field: _example(sub, defs, field) for field, sub in props.items()}
    if kind == "array":
        return [_example(schema.get("items", {}), defs, name)]
    if kind == "integer":
        return 100 + zlib.crc32(name.encode()) % 9900  # apart from the other fields
    if kind == "number":
        return 12.5
    if kind == "boolean":
        return True
    match schema.get("format"):
        case "uuid":
            return str(uuid.uuid5(uuid.NAMESPACE_OID, name))
        case "date-time":
            return EXAMPLE_TIME.isoformat().replace("+00:00", "Z")
        case "date":
            return EXAMPLE_TIME.date().isoformat()
    return EXAMPLE_STRINGS.get(name, f"{name}-1")


def receive_operations(channels: dict[str, Any]) -> dict[str, Any]:
    """Each of our consumer groups reading a channel, with its Kafka group id."""
    operations = {}
    for service in sorted(name for name in PORTS if name != "gateway"):
        module = importlib.import_module(f"services.{service}.app")
        for group, topics in sorted(consumer_groups(module).items()):
            for topic in sorted(topics & channels.keys()):
                operations[f"{group}:{topic}".replace(".", "_").replace(":", "__")] = {
                    "action": "receive",
                    "summary": f"Consumer group {group} reads {topic}.",
                    "channel": {"$ref": f"#/channels/{_escape(topic)}"},
                    "bindings": {
                        "kafka": {
                            "groupId": {"type": "string", "const": group},
                            "bindingVersion": KAFKA_BINDING,
                        }
                    },
                }
    return operations


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")
