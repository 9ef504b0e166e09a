"""Merges the services' OpenAPI documents into the one document the gateway publishes.

Pure and deterministic: its output is checked in as openapi/gateway.openapi.json and a test
fails when it drifts from the code.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from services.gateway.domain.policy import is_public, key_roles
from shared.apiconventions import name_by_component
from shared.problems import Problem
from shared.runtime import PORTS
from shared.versions import VERSIONS

TITLE = "B2B Commerce API"
OPENAPI_VERSION = "3.1.0"
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
# Never reachable through the gateway, or the gateway's own business.
HIDDEN_PREFIXES = ("/internal/", "/health/", "/metrics/")
HIDDEN_PATHS = frozenset({"/internal", "/health", "/metrics"})

DESCRIPTION = """\
Every service of the B2B commerce backend behind one gateway, in two versions:
`/api/v2/<service>/...`, where every list answers a page (`items` and `next_cursor`), and
`/api/v1/<service>/...`, where a few small lists answer a bare array of every item (those are
marked deprecated). Nothing else differs. (`/api/<service>/...` is a deprecated alias of
version 1, answered with `Deprecation: true`.) This document describes version {version}.

People authenticate with `Authorization: Bearer <access token>` from
`POST /api/v1/accounts/auth/login`. ERP integrations and partner marketplaces use an API key in
`X-API-Key` (or `Authorization: ApiKey <key>`). An integrator's key may call every service's
`/feeds/` paths, the ERP endpoints of orders (`/api/v1/orders/erp/...`), pricing's bulk policy
edits (`POST /api/v1/pricing/bulk/...`), and post clients' reconciliation statements and
products' quality certificates; nothing else. A partner's key may
only read the marketplace catalog feed and the price feeds.

Errors are RFC 9457 problem details (`application/problem+json`); lists take `limit` and
`cursor` and answer `next_cursor` (in version 2, every list); POSTs that create something take `Idempotency-Key`; a JSON
resource read with `ETag` is updated safely with `If-Match` (a stale one gets 412). See
openapi/README.md in the repository for every convention. Every response carries
`X-Request-ID`; send your own to trace a call. Callers are rate-limited; a 429 answer says in
`Retry-After` how many seconds to wait; an integrator's key has an allowance of its own, larger
than a person's.
"""

SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A person's access token from POST /api/accounts/auth/login",
    },
    "apiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "An integrator's or partner's API key: b2b_<prefix>_<secret>",
    },
}
REF = re.compile(r'"#/components/schemas/([^"]+)"')
# One problem shape for the gateway's own answers and every service's: the kernel's.
SHARED_SCHEMAS = ("Problem", "FieldError")
_problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
GATEWAY_SCHEMAS: dict[str, Any] = {**_problem.pop("$defs", {}), "Problem": _problem}


def _problem_response(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
    if headers:
        response["headers"] = headers
    return response


GATEWAY_RESPONSES: dict[str, Any] = {
    "Unauthorized": _problem_response("No valid access token or API key"),
    "Forbidden": _problem_response(
        "Signed in, but this role or API key may not call this operation (another company's "
        "resource answers 404, as an unknown id)"
    ),
    "TooManyRequests": _problem_response(
        "Rate limit exceeded",
        {
            "Retry-After": {
                "description": "Seconds to wait before the next request",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    ),
}


def camel(service: str) -> str:
    """accounts -> Accounts, price_lists -> PriceLists: the prefix of a service's schemas."""
    return "".join(part[:1].upper() + part[1:] for part in service.replace("-", "_").split("_"))


def _hidden(path: str) -> bool:
    return path in HIDDEN_PATHS or path.startswith(HIDDEN_PREFIXES)


def _rewrite_refs(node: Any, renames: dict[str, str], in_mapping: bool = False) -> Any:
    """A copy of `node` with every component reference pointing at its renamed component."""
    if isinstance(node, dict) and in_mapping:  # a discriminator's mapping: value -> $ref
        return {key: renames.get(value, value) for key, value in node.items()}
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = renames.get(value, value)
            else:
                out[key] = _rewrite_refs(value, renames, in_mapping=key == "mapping")
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def _operation(
    operation: dict[str, Any], service: str, method: str, gateway_path: str
) -> dict[str, Any]:
    operation = dict(operation)
    if "operationId" in operation:
        operation["operationId"] = f"{service}_{operation['operationId']}"
    operation["tags"] = [f"{service}: {tag}" for tag in operation.get("tags", [])] or [service]
    responses = dict(operation.get("responses", {}))
    if is_public(method, gateway_path):
        operation["security"] = []
    else:
        # API keys only where a key may call: feeds and the ERP's endpoints.
        keys = [{"apiKey": []}] if key_roles(method, gateway_path) else []
        operation["security"] = [{"bearer": []}, *keys]
        # As clients meet them: about their token or key, not the headers the gateway signs.
        responses["401"] = {"$ref": "#/components/responses/Unauthorized"}
        responses["403"] = {"$ref": "#/components/responses/Forbidden"}
    responses.setdefault("429", {"$ref": "#/components/responses/TooManyRequests"})
    operation["responses"] = responses
    return operation


def _drop_unreachable(schemas: dict[str, Any], paths: dict[str, Any]) -> None:
    """Schemas only the hidden paths used (internal calls) go with them."""
    reachable: set[str] = set()
    todo = [paths]
    while todo:
        for name in REF.findall(json.dumps(todo.pop())):
            if name not in reachable and name in schemas:
                reachable.add(name)
                todo.append(schemas[name])
    for name in set(schemas) - reachable - set(GATEWAY_SCHEMAS):
        del schemas[name]


def _tags(paths: dict[str, Any], descriptions: dict[str, str]) -> list[dict[str, str]]:
    """Every tag in use, sorted, so Swagger UI lists a service's operations together."""
    used = {
        tag
        for item in paths.values()
        for method, operation in item.items()
        if method in HTTP_METHODS
        for tag in operation.get("tags", [])
    }
    return [
        {"name": tag, "description": descriptions[tag]} if tag in descriptions else {"name": tag}
        for tag in sorted(used)
    ]


def _tag_groups(tags: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Redoc's grouping of the tags by service (Swagger UI ignores it)."""
    groups: dict[str, list[str]] = {}
    for tag in tags:
        groups.setdefault(tag["name"].split(":", 1)[0], []).append(tag["name"])
    return [{"name": service, "tags": names} for service, names in sorted(groups.items())]


def merge_documents(
    documents: Mapping[str, Mapping[str, Any]],
    *,
    unavailable: Iterable[str] = (),
    version: int = 1,
) -> dict[str, Any]:
    """One OpenAPI 3.1 document of all services, each under `/api/v<version>/<service>`
    (`documents` are the services' documents of that version).

    Component names get the service's CamelCase name in front (`AccountsCompanyRead`) and every
    `$ref` follows; operation ids get `<service>_`; internal, health and metrics paths go.
    `unavailable` names services whose document could not be fetched.
    """
    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {
        "schemas": dict(GATEWAY_SCHEMAS),
        "responses": dict(GATEWAY_RESPONSES),
    }
    descriptions: dict[str, str] = {}
    for service in sorted(documents):
        document = copy.deepcopy(dict(documents[service]))
        prefix = camel(service)
        own_components = {
            section: items
            for section, items in document.get("components", {}).items()
            if section != "securitySchemes"  # the gateway's schemes replace the services' own
        }
        kernel = {
            name
            for name, schema in own_components.get("schemas", {}).items()
            if name in SHARED_SCHEMAS and schema == GATEWAY_SCHEMAS[name]
        }
        renames = {
            f"#/components/{section}/{name}": f"#/components/{section}/{prefix}{name}"
            for section, items in own_components.items()
            for name in items
            if not (section == "schemas" and name in kernel)
        }
        for section, items in _rewrite_refs(own_components, renames).items():
            target = components.setdefault(section, {})
            for name, value in items.items():
                if not (section == "schemas" and name in kernel):
                    target[prefix + name] = value
        for path, item in _rewrite_refs(document.get("paths", {}), renames).items():
            if _hidden(path):
                continue
            policy_path = f"/api/{service}{path}"  # the policy's paths carry no version
            paths[f"/api/v{version}/{service}{path}"] = {
                key: _operation(value, service, key, policy_path) if key in HTTP_METHODS else value
                for key, value in item.items()
            }
        info = document.get("info", {})
        descriptions[service] = info.get("description") or info.get("title") or service
        for tag in document.get("tags", []):
            if tag.get("description"):
                descriptions[f"{service}: {tag['name']}"] = tag["description"]

    components["securitySchemes"] = copy.deepcopy(SECURITY_SCHEMES)
    _drop_unreachable(components["schemas"], paths)
    name_by_component(components["schemas"])
    tags = _tags(paths, descriptions)
    merged: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": TITLE,
            "version": VERSIONS[version],
            "description": DESCRIPTION.format(version=version),
        },
        "servers": [
            {
                "url": f"http://127.0.0.1:{PORTS['gateway']}",
                "description": "The gateway `make run` starts; your deployment's address instead",
            }
        ],
        "security": [{"bearer": []}],
        "tags": tags,
        "x-tagGroups": _tag_groups(tags),
        "paths": dict(sorted(paths.items())),
        "components": {
            section: dict(sorted(items.items())) for section, items in sorted(components.items())
        },
    }
    down = sorted(set(unavailable))
    if down:
        merged["x-unavailable-services"] = down
    return merged
