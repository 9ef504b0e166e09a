"""Generates the published contracts into openapi/: one OpenAPI document per service, the
gateway's merged document, and the AsyncAPI document of every topic and event type."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from shared.events.envelope import CloudEvent, all_contracts
from shared.runtime import PORTS, ROOT

OPENAPI_DIR = ROOT / "openapi"
API_SERVICES = tuple(name for name in PORTS if name != "gateway")


def service_document(service: str) -> dict[str, Any]:
    module = importlib.import_module(f"services.{service}.app")
    return module.create_app().openapi()


def merged_document(documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    gateway_openapi = importlib.import_module("services.gateway.openapi.service")
    return gateway_openapi.merge_documents(documents)


def asyncapi_document() -> dict[str, Any]:
    """AsyncAPI 3.0: a channel per topic, a message per event type with its payload schema."""
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"CloudEvent": CloudEvent.model_json_schema()}
    operations: dict[str, Any] = {}
    for event_type, contract in sorted(all_contracts().items()):
        name = contract.__name__
        schema = contract.model_json_schema(ref_template="#/components/schemas/{model}")
        for def_name, definition in schema.pop("$defs", {}).items():
            schemas[def_name] = definition
        schemas[name] = schema
        messages[name] = {
            "name": event_type,
            "title": name,
            "summary": (contract.__doc__ or "").strip(),
            "contentType": "application/cloudevents+json",
            "headers": {
                "type": "object",
                "properties": {"ce_id": {"type": "string"}, "ce_type": {"const": event_type}},
            },
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/CloudEvent"},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": event_type},
                            "data": {"$ref": f"#/components/schemas/{name}"},
                        },
                    },
                ]
            },
            "correlationId": {"location": "$message.header#/ce_id"},
            "x-key": f"the {contract.aggregate_type} id",
        }
        channel = channels.setdefault(
            contract.topic,
            {
                "address": contract.topic,
                "description": f"Events of one {contract.aggregate_type}, keyed by its id.",
                "messages": {},
            },
        )
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
        operations[f"publish{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{_escape(contract.topic)}"},
            "messages": [{"$ref": f"#/channels/{_escape(contract.topic)}/messages/{name}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "B2B commerce events",
            "version": "1",
            "description": (
                "Every event travels in a CloudEvents 1.0 envelope serialised as JSON. The `type` "
                "carries the version (com.b2b.<aggregate>.<fact>.v<N>); a published version never "
                "changes. The record key is the aggregate id, so one aggregate's events stay in order. "
                "Delivery is at least once: deduplicate by the envelope `id`."
            ),
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def documents() -> dict[str, dict[str, Any]]:
    """File name -> document, everything openapi/ holds."""
    per_service = {service: service_document(service) for service in API_SERVICES}
    out = {f"{service}.openapi.json": doc for service, doc in per_service.items()}
    out["gateway.openapi.json"] = merged_document(per_service)
    out["asyncapi.json"] = asyncapi_document()
    return out


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(directory: Path = OPENAPI_DIR) -> list[Path]:
    directory.mkdir(exist_ok=True)
    written = []
    for name, document in documents().items():
        path = directory / name
        path.write_text(render(document))
        written.append(path)
    return written


def drift(directory: Path = OPENAPI_DIR) -> list[str]:
    """Names of the documents whose checked-in copy differs from what the code generates."""
    return [
        name
        for name, document in documents().items()
        if not (directory / name).exists() or (directory / name).read_text() != render(document)
    ]
