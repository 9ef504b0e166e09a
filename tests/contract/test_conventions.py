"""The API conventions of openapi/README.md hold on every service, as its document says.

Driven from the generated documents: every POST that creates (201) takes Idempotency-Key and
replays its first success; every error is problem+json; a stale If-Match gets 412.
"""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import text

from b2b import apidocs
from shared.auth import Role
from shared.testing.fixtures import as_role, client

ADMIN = as_role(Role.ADMIN, subject="conventions-admin")


def creating_posts(document: dict) -> list[tuple[str, dict]]:
    return [
        (path, item["post"])
        for path, item in document["paths"].items()
        if "post" in item and "201" in item["post"]["responses"]
    ]


def header_names(operation: dict) -> set[str]:
    return {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}


@pytest.mark.parametrize("service", apidocs.API_SERVICES)
def test_every_creating_post_declares_idempotency_key_and_every_error_is_a_problem(service):
    document = apidocs.service_document(service)
    posts = creating_posts(document)
    assert posts, f"{service} creates nothing?"
    for path, operation in posts:
        assert "idempotency-key" in header_names(operation), f"POST {path}"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status[:1] in "45" or status == "default":
                    assert list(response["content"]) == ["application/problem+json"], (
                        f"{method} {path} {status}"
                    )


def operations(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


def test_each_header_is_spelled_one_way_and_what_428_asks_for_is_required():
    """Generated clients name arguments after the header: `idempotency-key` on checkout and
    `Idempotency-Key` elsewhere made two names for one thing."""
    document = apidocs.merged_document(
        {service: apidocs.service_document(service) for service in apidocs.API_SERVICES}
    )
    spellings: dict[str, set[str]] = {}
    for method, path, operation in operations(document):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "header":
                spellings.setdefault(parameter["name"].lower(), set()).add(parameter["name"])
        if "428" in operation["responses"]:
            required = {
                p["name"] for p in operation["parameters"] if p["in"] == "header" and p["required"]
            }
            assert required & {"Idempotency-Key", "If-Match"}, f"{method} {path}"
    assert {k: v for k, v in spellings.items() if len(v) > 1} == {}
    assert spellings["idempotency-key"] == {"Idempotency-Key"}
    assert spellings["if-match"] == {"If-Match"}


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: str(uuid.uuid4()) if "id" in m.group() else "X-1", path)


@pytest.mark.parametrize("service", apidocs.API_SERVICES)
async def test_every_creating_post_pins_its_key_only_to_a_success(start_app, service):
    """A success under a key is replayed for the same body and another body is refused; a
    refusal (created nothing, found nothing) is not kept: the same key runs the endpoint again
    and may carry a corrected body."""
    app = await start_app(service)
    posts = creating_posts(app.openapi())
    async with client(app, ADMIN) as http:
        for path, _operation in posts:
            url = concrete(path)
            body = {"probe": path}
            key = {"Idempotency-Key": f"probe-{uuid.uuid4()}"}
            first = await http.post(url, json=body, headers=key)
            again = await http.post(url, json=body, headers=key)
            other = await http.post(url, json={"probe": "other"}, headers=key)
            assert first.status_code < 500, (path, first.text)
            assert again.status_code == first.status_code, path
            if first.is_success:
                assert again.headers.get("idempotent-replayed") == "true", path
                assert again.content == first.content, path
                assert other.status_code == 422, path
                assert other.json()["type"].endswith("/idempotency-key-reused"), path
            else:
                assert "idempotent-replayed" not in again.headers, path
                assert "/idempotency-key-reused" not in other.json().get("type", ""), path


async def test_a_create_sent_twice_with_one_key_creates_once(start_app):
    pricing = await start_app("pricing")
    body = {"code": "IDEM", "currency": "EUR"}
    async with client(pricing, {**ADMIN, "Idempotency-Key": "list-idem"}) as http:
        first = await http.post("/price-lists", json=body)
        again = await http.post("/price-lists", json=body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    async with pricing.state.sessionmaker() as session:
        count = await session.scalar(text("SELECT count(*) FROM price_lists WHERE code = 'IDEM'"))
    assert count == 1


async def test_a_stale_if_match_gets_412_and_changes_nothing(start_app):
    pricing = await start_app("pricing")
    async with client(pricing, ADMIN) as http:
        created = await http.post("/price-lists", json={"code": "ETAG", "currency": "EUR"})
        assert created.status_code == 201, created.text
        read = await http.get("/price-lists/ETAG")
        etag = read.headers["etag"]
        assert (
            await http.get("/price-lists/ETAG", headers={"If-None-Match": etag})
        ).status_code == 304

        first = await http.patch(
            "/price-lists/ETAG", json={"name": "Spring"}, headers={"If-Match": etag}
        )
        assert first.status_code == 200, first.text
        stale = await http.patch(
            "/price-lists/ETAG", json={"name": "Autumn"}, headers={"If-Match": etag}
        )
        assert stale.status_code == 412
        assert stale.headers["content-type"] == "application/problem+json"
        now = await http.get("/price-lists/ETAG")
        assert now.json()["name"] == "Spring"
        assert stale.headers["etag"] == now.headers["etag"] != etag
        fresh = await http.patch(
            "/price-lists/ETAG", json={"name": "Autumn"}, headers={"If-Match": now.headers["etag"]}
        )
        assert fresh.status_code == 200
        gone = await http.delete("/price-lists/ETAG", headers={"If-Match": etag})
        assert gone.status_code == 412
    assert (await _list_name(pricing, "ETAG")) == "Autumn"


async def _list_name(app, code: str) -> str | None:
    async with app.state.sessionmaker() as session:
        return await session.scalar(
            text("SELECT name FROM price_lists WHERE code = :c").bindparams(c=code)
        )


async def test_writes_without_if_match_and_endpoints_with_their_own_etag_are_left_alone(
    start_app,
):
    accounts = await start_app("accounts")
    async with client(accounts, ADMIN) as http:
        company = await http.post(
            "/companies",
            json={"legal_name": "Alpha LLC", "tax_id": "7701234567", "currency": "EUR"},
        )
        assert company.status_code == 201, company.text
        path = f"/companies/{company.json()['id']}"
        read = await http.get(path)
        etag = read.headers["etag"]  # the company's own row version
        changed = await http.patch(path, json={"legal_name": "Alpha"}, headers={"If-Match": etag})
        assert changed.status_code == 200, changed.text
        stale = await http.patch(path, json={"legal_name": "Beta"}, headers={"If-Match": etag})
        assert stale.status_code == 412
    pricing = await start_app("pricing")
    async with client(pricing, ADMIN) as http:
        await http.post("/price-lists", json={"code": "FREE", "currency": "EUR"})
        unconditional = await http.patch("/price-lists/FREE", json={"name": "x"})
    assert unconditional.status_code == 200


async def test_a_nul_character_is_refused_as_invalid_input_not_a_server_error(start_app):
    pricing = await start_app("pricing")
    async with client(pricing, ADMIN) as http:
        answer = await http.post(
            "/prices/resolve", json={"client_id": str(uuid.uuid4()), "lines": [{"sku": "A\x00B"}]}
        )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("service", apidocs.API_SERVICES)
def test_the_refusals_an_operation_can_meet_are_documented(service):
    """A generated client types 404 and 403 only where the document has them."""
    for method, path, operation in operations(apidocs.service_document(service)):
        statuses = set(operation["responses"])
        if "{" in path:
            assert "404" in statuses, f"{method} {path}"
        if operation.get("x-roles"):
            assert {"401", "403"} <= statuses, f"{method} {path}"


# What each kind of caller calls first: each shows an example request (when it takes a JSON
# body) and an example answer (for a list: of its items).
MAIN_OPERATIONS = {
    "buyer": [
        ("post", "/api/v1/accounts/auth/login"),
        ("post", "/api/v1/pricing/prices/resolve"),
        ("post", "/api/v1/orders/carts"),
        ("put", "/api/v1/orders/carts/{cart_id}/lines"),
        ("post", "/api/v1/orders/carts/{cart_id}/checkout"),
        ("get", "/api/v1/orders/orders/{order_id}"),
    ],
    "sales manager, head of sales": [
        ("post", "/api/v1/accounts/companies"),
        ("get", "/api/v1/accounts/companies/{company_id}"),
        ("get", "/api/v1/accounts/companies/{company_id}/card"),
        ("put", "/api/v1/accounts/companies/{company_id}/card"),
        ("post", "/api/v1/orders/carts/{cart_id}/quote"),
        ("get", "/api/v1/orders/quotes/{quote_id}"),
        ("put", "/api/v1/orders/quotes/{quote_id}/offer"),
        ("get", "/api/v1/orders/orders"),
    ],
    "pricing manager": [
        ("post", "/api/v1/pricing/price-lists"),
        ("post", "/api/v1/pricing/promotions"),
        ("put", "/api/v1/pricing/clients/{company_id}/price-lists"),
        ("get", "/api/v1/pricing/prices/explain"),
    ],
    "integrator": [
        ("post", "/api/v1/orders/erp/order-updates"),
        ("post", "/api/v1/orders/erp/shipments"),
        ("post", "/api/v1/accounts/feeds/clients"),
        ("get", "/api/v1/accounts/feeds/{job_id}"),
        ("post", "/api/v1/pricing/feeds/prices"),
        ("get", "/api/v1/pricing/feeds/{job_id}"),
    ],
    "admin": [
        ("post", "/api/v1/accounts/api-keys"),
        ("post", "/api/v1/notifications/webhooks"),
        ("get", "/api/v1/notifications/webhooks/{subscription_id}"),
    ],
    "analytics reader": [
        ("get", "/api/v1/analytics/clients/{client_id}/profile"),
        ("get", "/api/v1/analytics/segments"),
        ("get", "/api/v1/analytics/segments/clients"),
    ],
}


@pytest.mark.parametrize("role", MAIN_OPERATIONS)
def test_the_main_operations_show_an_example_request_and_answer_that_hold(role):
    """Each example is checked against its own schema, as a generated client would read it."""
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    document = apidocs.merged_document(
        {service: apidocs.service_document(service) for service in apidocs.API_SERVICES}
    )
    registry = Registry().with_resource("urn:doc", DRAFT202012.create_resource(document))

    def examples_of(schema: dict) -> list:
        target = schema
        while "$ref" in target:
            target = document["components"]["schemas"][target["$ref"].rsplit("/", 1)[1]]
        found = list(target.get("examples", []))
        for part in target.get("anyOf", []) + target.get("oneOf", []):
            found += examples_of(part)
        for example in target.get("examples", []):
            validator = Draft202012Validator(
                {"$ref": "urn:doc#/components/schemas/" + schema["$ref"].rsplit("/", 1)[1]}
                if "$ref" in schema
                else schema,
                registry=registry,
            )
            errors = [e.message for e in validator.iter_errors(example)]
            assert errors == [], errors
        return found

    def item_examples(schema: dict) -> list:
        """A list's examples are its items' (a bare array, or a page's `items`)."""
        target = schema
        while "$ref" in target:
            target = document["components"]["schemas"][target["$ref"].rsplit("/", 1)[1]]
        if target.get("type") == "array":
            return examples_of(target["items"])
        if "next_cursor" in target.get("properties", {}):
            return examples_of(target["properties"]["items"]["items"])
        return examples_of(schema)

    for method, path in MAIN_OPERATIONS[role]:
        operation = document["paths"][path][method]
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            assert examples_of(body["schema"]), f"{method} {path}: no example request"
        answer = next(
            r["content"]["application/json"]
            for status, r in operation["responses"].items()
            if status in ("200", "201", "202") and "application/json" in r.get("content", {})
        )
        assert item_examples(answer["schema"]), f"{method} {path}: no example answer"
