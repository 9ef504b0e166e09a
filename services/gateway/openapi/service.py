"""Merges the services' OpenAPI documents into one, as seen through the gateway."""

from __future__ import annotations

import copy
from typing import Any

HIDDEN_PREFIXES = ("/internal", "/health", "/metrics")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
REF_PREFIX = "#/components/schemas/"


def _camel(service: str) -> str:
    return "".join(part.capitalize() for part in service.split("_"))


def _rewrite_refs(node: Any, rename: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                name = value[len(REF_PREFIX) :]
                out[key] = REF_PREFIX + rename.get(name, name)
            else:
                out[key] = _rewrite_refs(value, rename)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, rename) for v in node]
    return node


def merge_documents(documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One OpenAPI 3.1 document: every service's public paths under /api/<service>, its schemas
    prefixed with the service's name so two services' `Page` never collide."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    tags = []
    for service in sorted(documents):
        document = documents[service]
        prefix = _camel(service)
        own = document.get("components", {}).get("schemas", {})
        rename = {name: prefix + name for name in own}
        for name in sorted(own):
            schemas[rename[name]] = _rewrite_refs(own[name], rename)
        for path in sorted(document.get("paths", {})):
            if path.startswith(HIDDEN_PREFIXES):
                continue
            item = _rewrite_refs(copy.deepcopy(document["paths"][path]), rename)
            for method in METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                if "operationId" in operation:
                    operation["operationId"] = f"{service}_{operation['operationId']}"
                operation["tags"] = [f"{service}: {t}" for t in operation.get("tags", [])] or [
                    service
                ]
                for tag in operation["tags"]:
                    if tag not in tags:
                        tags.append(tag)
            paths[f"/api/{service}{path}"] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "B2B Commerce API",
            "version": "0.1.0",
            "description": (
                "Every service behind one gateway. People authenticate with a bearer token from "
                "`POST /api/accounts/auth/login`; integrators and partners with `X-API-Key`. "
                "Errors are RFC 9457 problem+json."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
        "security": [{"bearer": []}, {"apiKey": []}],
        "tags": [{"name": t} for t in sorted(tags)],
    }
