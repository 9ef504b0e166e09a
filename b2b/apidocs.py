"""Generates the published contracts into openapi/: one OpenAPI document per service, the
gateway's merged documents of versions 1 and 2, and the AsyncAPI document of every topic and
event type."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from b2b.asyncapi import asyncapi_document
from shared.runtime import PORTS, ROOT

OPENAPI_DIR = ROOT / "openapi"
API_SERVICES = tuple(name for name in PORTS if name != "gateway")


def service_document(service: str, version: int = 1) -> dict[str, Any]:
    module = importlib.import_module(f"services.{service}.app")
    return module.create_app().state.openapi_of(version)


def merged_document(documents: dict[str, dict[str, Any]], version: int = 1) -> dict[str, Any]:
    gateway_openapi = importlib.import_module("services.gateway.openapi.service")
    return gateway_openapi.merge_documents(documents, version=version)


def documents() -> dict[str, dict[str, Any]]:
    """File name -> document, everything openapi/ holds. A service's version 2 differs from
    its version 1 only in its lists, so only the gateway's merged version 2 is kept."""
    per_service = {service: service_document(service) for service in API_SERVICES}
    out = {f"{service}.openapi.json": doc for service, doc in per_service.items()}
    out["gateway.openapi.json"] = merged_document(per_service)
    v2 = {service: service_document(service, 2) for service in API_SERVICES}
    out["gateway.v2.openapi.json"] = merged_document(v2, version=2)
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
