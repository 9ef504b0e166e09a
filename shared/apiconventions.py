"""The HTTP conventions the kernel applies to every service, written into its OpenAPI document.

The middlewares (idempotency, conditional requests, problem handlers) behave the same on every
endpoint; this makes each service's document say so, so clients and the fuzzer see the
contract as it is served: problem+json errors, `Idempotency-Key` on POSTs that create,
`ETag` on JSON reads and `If-Match` on the writes of a resource that can be read.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts

from shared.auth import Role, Roles, get_principal
from shared.problems import PROBLEM_JSON, Problem
from shared.versions import V2, openapi_of, roles_of

PROBLEM_REF = "#/components/schemas/Problem"
WRITE_METHODS = ("put", "patch", "delete")


def _optional_header(name: str, description: str, **schema: Any) -> dict[str, Any]:
    """An optional request header as an OpenAPI parameter."""
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }


IDEMPOTENCY_KEY = _optional_header(
    "Idempotency-Key",
    "Send the same key again (with the same body) to get the first answer back instead of "
    "creating twice; another body with the same key gets 422.",
    maxLength=200,
)
IF_MATCH = _optional_header(
    "If-Match", "The ETag you read; the change is refused with 412 when it is stale."
)
IF_NONE_MATCH = _optional_header(
    "If-None-Match", "The ETag you hold; 304 when the resource is unchanged."
)
ETAG_HEADER = {
    "ETag": {
        "description": "Send it back in If-Match to change this resource safely",
        "schema": {"type": "string"},
    }
}


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}


def _has_header(operation: dict[str, Any], name: str) -> bool:
    return any(
        p.get("in") == "header" and p.get("name", "").lower() == name.lower()
        for p in operation.get("parameters", [])
    )


def _spell_headers(operation: dict[str, Any]) -> None:
    """One spelling per header (`Idempotency-Key`, never `idempotency-key`): generated clients
    name their arguments after it, and HTTP does not care."""
    for parameter in operation.get("parameters", []):
        name = parameter.get("name", "")
        if parameter.get("in") == "header" and name == name.lower():
            parameter["name"] = "-".join(part.capitalize() for part in name.split("-"))


def _require_what_428_asks_for(operation: dict[str, Any]) -> None:
    """A header whose absence is answered 428 (its response names it) is required."""
    missing = operation["responses"].get("428", {}).get("description", "").lower()
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header" and parameter["name"].lower() in missing:
            parameter["required"] = True


def _add_parameter(operation: dict[str, Any], parameter: dict[str, Any]) -> None:
    if not _has_header(operation, parameter["name"]):
        operation.setdefault("parameters", []).append(dict(parameter))


def _allowed(dependant: Dependant) -> frozenset[Role] | None:
    """The roles every `Roles` check under this dependant admits; None: no role check."""
    found: frozenset[Role] | None = None
    for dependency in dependant.dependencies:
        for roles in (
            dependency.call.allowed if isinstance(dependency.call, Roles) else None,
            _allowed(dependency),
        ):
            if roles is not None:
                found = roles if found is None else found & roles
    return found


def _signed_in(dependant: Dependant) -> bool:
    return any(d.call is get_principal or _signed_in(d) for d in dependant.dependencies)


def callers(app: FastAPI) -> dict[tuple[str, str], list[str] | None]:
    """(path, method) -> the roles of people and API keys that may call it (services' own
    identity left out); None: any signed-in caller. Operations anyone may call are not listed."""
    out: dict[tuple[str, str], list[str] | None] = {}
    for route in iter_route_contexts(app.routes):  # routes of included routers, as served
        if isinstance(route.original_route, APIRoute) and route.include_in_schema:
            allowed = _allowed(route.dependant)
            if allowed is None and not _signed_in(route.dependant):
                continue
            for method in route.methods:
                out[(route.path_format, method.lower())] = (
                    None if allowed is None else sorted(r.value for r in allowed - {Role.SYSTEM})
                )
    return out


PUBLIC = "public"
# A service trusts the caller the gateway signed into these headers; the gateway's own document
# has the schemes clients use (a bearer token, an API key).
GATEWAY_PRINCIPAL = {
    "type": "apiKey",
    "in": "header",
    "name": "X-Principal",
    "description": "The caller as the gateway established and signed it (with "
    "X-Principal-Signature and X-Principal-Timestamp). Call services through the gateway, "
    "which sets these from your bearer token or API key.",
}


def _operations(paths: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in paths.items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


# A query parameter naming the company acted for: one the caller does not reach answers 404.
CLIENT_PARAMETERS = {"company_id", "client_id"}
REFUSALS = {
    "400": "The request cannot be read: a body that is not UTF-8 text of the declared type, "
    "or an Idempotency-Key longer than 200 characters",
    "401": "No caller the gateway vouched for (call through the gateway, signed in)",
    "403": "This caller's role may not call this operation",
    "404": "No such resource, or not one this caller may see: another company's answers 404 "
    "too, as an unknown id",
}


def _document_refusals(operation: dict[str, Any], path: str, who: list[str] | str | None) -> None:
    """The refusals every service gives the same way, on each operation that can meet them."""
    responses = operation["responses"]
    names_a_client = any(
        parameter.get("in") == "query" and parameter.get("name") in CLIENT_PARAMETERS
        for parameter in operation.get("parameters", [])
    )
    can_meet = {
        "400": "requestBody" in operation
        or any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])),
        "401": who != PUBLIC,
        "403": isinstance(who, list),
        "404": "{" in path or names_a_client,
    }
    for status, description in REFUSALS.items():
        if can_meet[status]:
            responses.setdefault(
                status, {"description": description, "content": _problem_content()}
            )


def _secure(document: dict[str, Any], roles: dict[tuple[str, str], Any]) -> None:
    document["components"].setdefault("securitySchemes", {})["gatewayPrincipal"] = GATEWAY_PRINCIPAL
    document["security"] = [{"gatewayPrincipal": []}]
    for path, method, operation in _operations(document.get("paths", {})):
        if (path, method) not in roles:
            operation["security"] = []


def _say_who_may_call(operation: dict[str, Any], roles: list[str] | str | None) -> None:
    """Roles as data (`x-roles`, for generators and the gateway's portal) and as a sentence."""
    if roles == PUBLIC:
        sentence = "Anyone may call it: no credentials are needed."
    elif roles is None:
        sentence = "Any signed-in caller may call it."
    else:
        operation["x-roles"] = list(roles)
        names = ", ".join(r.replace("_", " ") for r in roles)
        sentence = f"Roles: {names}." if roles else "Only other services call it."
    description = operation.get("description", "").strip()
    operation["description"] = f"{description}\n\n{sentence}" if description else sentence


# (service, model name) -> examples of the model, written into its service's document.
_EXAMPLES: dict[tuple[str, str], list[dict[str, Any]]] = {}


def examples(*values: dict[str, Any], service: str = "") -> Any:
    """Class decorator: show these examples of a request or answer model in its service's
    document. Not `json_schema_extra`: FastAPI drops every null from what a model declares,
    and an answer's example needs its nulls to be valid. A kernel model is shown in the
    `service` named, with that service's values (`examples(..., service="pricing")(Model)`)."""

    def mark(model: Any) -> Any:
        parts = model.__module__.split(".")
        owner = service or (parts[1] if parts[0] == "services" else "")
        _EXAMPLES[(owner, model.__name__)] = list(values)
        return model

    return mark


def _write_examples(schemas: dict[str, Any], service: str) -> None:
    for (owner, name), values in _EXAMPLES.items():
        for component in (name, f"{name}-Output", f"{name}-Input"):
            if owner == service and component in schemas:
                schemas[component]["examples"] = values


def apply_conventions(
    document: dict[str, Any],
    roles: dict[tuple[str, str], list[str] | None] | None = None,
    service: str = "",
) -> dict[str, Any]:
    """The document with the kernel's conventions written in (it is changed in place);
    `roles` as `callers` gives them; `service`'s models' examples are written in."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _write_examples(schemas, service)
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema
    paths = document.get("paths", {})
    for path, item in paths.items():
        parent = path.rsplit("/", 1)[0]
        # A part that cannot be read alone (a cart's lines) is guarded by its parent's ETag.
        guard = path if "get" in item else parent if "get" in paths.get(parent, {}) else None
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, response in responses.items():
                if status[:1] in ("4", "5"):
                    # Every error is a problem (FastAPI would document 422 as its own shape).
                    response["content"] = _problem_content()
            responses.setdefault(
                "default",
                {"description": "A problem (RFC 9457)", "content": _problem_content()},
            )
            if method == "post" and "201" in responses and not path.startswith("/feeds/"):
                _add_parameter(operation, IDEMPOTENCY_KEY)
            if method == "get" and "json" in str(responses.get("200", {}).get("content", {})):
                _add_parameter(operation, IF_NONE_MATCH)
                responses["200"].setdefault("headers", {}).update(ETAG_HEADER)
                responses.setdefault("304", {"description": "Not modified since that ETag"})
            if method in WRITE_METHODS and guard:
                _add_parameter(
                    operation,
                    {
                        **IF_MATCH,
                        "description": f"The ETag of GET {guard}. " + IF_MATCH["description"],
                    },
                )
                responses.setdefault(
                    "412",
                    {"description": "Stale If-Match: read again", "content": _problem_content()},
                )
            _spell_headers(operation)
            _require_what_428_asks_for(operation)
            if roles is not None:
                who = roles.get((path, method), PUBLIC)
                _say_who_may_call(operation, who)
                _document_refusals(operation, path, who)
    used_tags = {tag for _, _, operation in _operations(paths) for tag in operation.get("tags", [])}
    if "tags" in document:
        document["tags"] = [t for t in document["tags"] if t["name"] in used_tags]
    if roles is not None:
        _secure(document, roles)
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused not in str(document.get("paths", {})):
            schemas.pop(unused, None)
    _readable_names(document)
    name_by_component(document["components"]["schemas"])
    return document


def _readable(name: str) -> str:
    """`Page_CompanyRead_` -> `CompanyReadPage`; `Body_upload_statement_statements_post` ->
    `UploadStatementStatementsPostBody`: what FastAPI derives, put as a reader would."""
    if page := re.fullmatch(r"Page_(\w+?)_", name):
        return f"{page.group(1)}Page"
    if name.startswith("Body_"):
        return "".join(part.capitalize() for part in name[5:].split("_")) + "Body"
    return name


def _readable_names(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    renames = {name: _readable(name) for name in schemas if _readable(name) != name}
    if not renames or any(new in schemas for new in renames.values()):
        return
    text = json.dumps(document)
    for old, new in renames.items():
        text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
    renamed = json.loads(text)
    renamed["components"]["schemas"] = {
        renames.get(name, name): schema for name, schema in renamed["components"]["schemas"].items()
    }
    document.clear()
    document.update(renamed)


def name_by_component(schemas: dict[str, Any]) -> None:
    """Each schema titled by its component name: generators name classes after titles, and a
    request and an answer shape of one model (`Tier-Input`, `Tier-Output`) or two services'
    `NextTier` would otherwise collide and be dropped."""
    for name, schema in schemas.items():
        schema["title"] = re.sub(r"[^0-9A-Za-z]", "", name)


def install_conventions(app: FastAPI) -> None:
    """Serve `app`'s OpenAPI documents with the conventions written in: version 1's at
    `/openapi.json`, version 2's at `/v2/openapi.json` (shared.versions)."""
    documents: dict[int, dict[str, Any]] = {}

    def document(version: int) -> dict[str, Any]:
        if version not in documents:
            service = getattr(app.state, "service", "")
            roles = roles_of(callers(app), version)
            documents[version] = apply_conventions(openapi_of(app, version), roles, service)
        return documents[version]

    async def openapi_v2() -> JSONResponse:
        return JSONResponse(document(2))

    app.openapi = lambda: document(1)  # type: ignore[method-assign]
    app.state.openapi_of = document
    app.add_api_route(V2 + "/openapi.json", openapi_v2, include_in_schema=False)
