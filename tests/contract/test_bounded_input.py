"""Every number a client may send is bounded and every text has a shape (a pattern, an enum or
a format) in the contracts; amounts beyond the largest are a 422 naming the field, never a 500.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from b2b import apidocs
from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.pricing.world import add_list

DOCUMENTS = sorted(n for n in apidocs.documents() if n.endswith(".openapi.json"))
# Texts with no shape to give: passwords (any character is fair), the bytes of uploaded files
# and of whole feeds (read and checked row by row).
UNSHAPED_FIELDS = (".password", ".file", " body")  # the last: a whole body of text (a feed)


def _resolve(document: dict, node: dict) -> dict:
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _leaves(document: dict, node: dict, at: str, seen: frozenset = frozenset()) -> Iterator:
    """(path, schema) of every number and text under `node`."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return
        seen = seen | {name}
    node = _resolve(document, node)
    if node.get("type") in ("integer", "number", "string"):
        yield at, node
    for part in node.get("anyOf", []) + node.get("allOf", []) + node.get("oneOf", []):
        yield from _leaves(document, part, at, seen)
    for name, child in node.get("properties", {}).items():
        yield from _leaves(document, child, f"{at}.{name}", seen)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield from _leaves(document, node[key], f"{at}[]", seen)


def request_fields(document: dict) -> Iterator[tuple[str, dict]]:
    """What a client sends: bodies and parameters (headers are the server's to limit)."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "header":
                    yield from _leaves(
                        document, parameter["schema"], f"{where} ?{parameter['name']}"
                    )
            for content in operation.get("requestBody", {}).get("content", {}).values():
                yield from _leaves(document, content.get("schema", {}), f"{where} body")


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_number_a_client_sends_has_a_minimum_and_a_maximum(name):
    document = json.loads((apidocs.OPENAPI_DIR / name).read_text())
    unbounded = [
        at
        for at, node in request_fields(document)
        if node["type"] in ("integer", "number")
        and not (
            ("minimum" in node or "exclusiveMinimum" in node)
            and ("maximum" in node or "exclusiveMaximum" in node)
        )
    ]
    assert unbounded == []


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_text_a_client_sends_has_a_shape(name):
    """A pattern (which keeps control characters out of codes and names), an enum or a format."""
    document = json.loads((apidocs.OPENAPI_DIR / name).read_text())
    shapeless = [
        at
        for at, node in request_fields(document)
        if node["type"] == "string"
        and not any(k in node for k in ("pattern", "enum", "const", "format"))
        and not at.endswith(UNSHAPED_FIELDS)
    ]
    assert shapeless == []


TOO_BIG = 2**63
QUOTE, CLIENT = uuid.uuid4(), uuid.uuid4()


def _offline(unit_price_minor: int) -> dict:
    line = {"sku": "S1", "quantity": "1", "unit_price_minor": unit_price_minor}
    order = {
        "external_id": "E1",
        "client": "C1",
        "placed_at": "2026-10-01T10:00:00Z",
        "currency": "EUR",
        "lines": [line],
    }
    return {"orders": [order]}


# (service, method, path, body with the amount, the field the 422 names)
AMOUNTS: list[tuple[str, str, str, Any, str]] = [
    (
        "orders",
        "POST",
        "/approval-rules",
        lambda v: {"above_minor": v, "currency": "EUR"},
        "above_minor",
    ),
    (
        "accounts",
        "POST",
        "/companies",
        lambda v: {"legal_name": "Big", "credit_limit_minor": v},
        "credit_limit_minor",
    ),
    (
        "analytics",
        "PUT",
        f"/clients/{CLIENT}/plans/2026-01",
        lambda v: {"plan_minor": v, "currency": "EUR"},
        "plan_minor",
    ),
    (
        "orders",
        "PUT",
        f"/quotes/{QUOTE}/offer",
        lambda v: {"valid_until": "2026-12-31", "lines": [{"line_no": 1, "price_minor": v}]},
        "lines[0].price_minor",
    ),
    (
        "pricing",
        "POST",
        "/prices/simulate",
        lambda v: {"rows": [{"list": "BASE", "sku": "S1", "price_minor": v, "currency": "EUR"}]},
        "rows[0].price_minor",
    ),
    (
        "orders",
        "POST",
        "/erp/offline-orders",
        _offline,
        "orders[0].lines[0].unit_price_minor",
    ),
]


@pytest.mark.parametrize("amount", [TOO_BIG, -1], ids=["2**63", "-1"])
@pytest.mark.parametrize(
    ("service", "method", "path", "body", "field"), AMOUNTS, ids=[a[4] for a in AMOUNTS]
)
async def test_an_amount_out_of_range_is_a_422_naming_the_field(
    start_app, service, method, path, body, field, amount
):
    app = await start_app(service)
    async with client(app, as_role(Role.ADMIN, subject="bounds")) as http:
        answer = await http.request(
            method, path, json=body(amount), params={"company_id": str(CLIENT)}
        )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in answer.json()["errors"]] == [field]


def _forged(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("service", "path"),
    [("accounts", "/companies"), ("analytics", "/segments/skus"), ("catalog", "/products")],
)
@pytest.mark.parametrize(
    "cursor",
    [_forged(2**70, "x"), _forged("a\u0000b", "c"), _forged(1e308 * 10, 1)],
    ids=["huge", "nul", "inf"],
)
async def test_a_forged_cursor_is_refused_or_harmless_never_a_500(start_app, service, path, cursor):
    app = await start_app(service)
    async with client(app, as_role(Role.ADMIN, subject="bounds")) as http:
        answer = await http.get(path, params={"cursor": cursor})
    assert answer.status_code in (200, 422), answer.text


@pytest.mark.parametrize(
    "cursor",
    [_forged(2**40, "1", "-infinity"), _forged(1, "1e999999", "-infinity")],
    ids=["sku-id", "quantity"],
)
async def test_a_forged_price_list_entries_cursor_is_a_422(start_app, cursor):
    app = await start_app("pricing")
    await add_list(app, "BASE", base=True)
    async with client(app, as_role(Role.ADMIN, subject="bounds")) as http:
        answer = await http.get("/price-lists/BASE/entries", params={"cursor": cursor})
    assert answer.status_code == 422, answer.text
