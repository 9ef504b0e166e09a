"""The merged OpenAPI document, Swagger UI, health, metrics and rate limits at the edge."""

import json
import re

from fastapi import FastAPI
from pydantic import BaseModel

from b2b import apidocs
from services.gateway.openapi.service import camel, merge_documents
from shared.auth import Role
from shared.testing.fixtures import client
from tests.gateway.tokens import bearer
from tests.gateway.upstreams import upstream_app

REF = re.compile(r'"\$ref": "#/components/(\w+)/([^"]+)"')


def dangling_refs(document: dict) -> list[str]:
    text = json.dumps(document)
    return [
        f"{section}/{name}"
        for section, name in REF.findall(text)
        if name not in document["components"].get(section, {})
    ]


def document(*paths: str, schemas: dict | None = None, tags=("things",)) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "T", "version": "1"},
        "paths": {
            p: {
                "get": {
                    "operationId": p.strip("/").replace("/", "_") or "root",
                    "tags": list(tags),
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Page"}
                                }
                            }
                        }
                    },
                }
            }
            for p in paths
        },
        "components": {"schemas": schemas or {"Page": {"type": "object"}}},
    }


def test_merge_prefixes_rewrites_and_hides():
    pets = {
        "Page": {"properties": {"items": {"items": {"$ref": "#/components/schemas/Pet"}}}},
        "Pet": {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}],
            "discriminator": {
                "propertyName": "kind",
                "mapping": {"cat": "#/components/schemas/Cat"},
            },
        },
        "Cat": {"type": "object"},
    }
    merged = merge_documents(
        {
            "price_lists": document(
                "/pets", "/internal/check", "/health/live", "/metrics", schemas=pets
            ),
            "accounts": document("/auth/login", "/me"),
        }
    )
    assert list(merged["paths"]) == [
        "/api/v1/accounts/auth/login",
        "/api/v1/accounts/me",
        "/api/v1/price_lists/pets",
    ]
    schemas = merged["components"]["schemas"]
    assert {"PriceListsPage", "PriceListsPet", "PriceListsCat", "AccountsPage"} <= set(schemas)
    assert schemas["PriceListsPage"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/PriceListsPet"
    }
    assert schemas["PriceListsPet"]["discriminator"]["mapping"] == {
        "cat": "#/components/schemas/PriceListsCat"
    }
    operation = merged["paths"]["/api/v1/price_lists/pets"]["get"]
    assert operation["operationId"] == "price_lists_pets"
    assert operation["tags"] == ["price_lists: things"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PriceListsPage"
    }
    assert "401" in operation["responses"] and "429" in operation["responses"]
    login = merged["paths"]["/api/v1/accounts/auth/login"]["get"]
    assert login["security"] == [{"bearer": []}]  # only POST /auth/login is public
    assert set(merged["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    assert merged["components"]["securitySchemes"]["apiKey"]["name"] == "X-API-Key"
    assert merged["info"]["title"] == "B2B Commerce API"
    assert merged["openapi"].startswith("3.1")
    assert dangling_refs(merged) == []
    assert "x-unavailable-services" not in merged


def test_the_merged_document_offers_api_keys_only_where_keys_may_call():
    """Keys are for feeds and the ERP's endpoints (bulk policy edits among them): elsewhere a generated client must not
    offer one, and every signed-in operation says it can answer 403."""
    documents = {service: apidocs.service_document(service) for service in apidocs.API_SERVICES}
    paths = merge_documents(documents)["paths"]
    security = {
        (method, path): operation["security"]
        for path, item in paths.items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    }
    both = [{"bearer": []}, {"apiKey": []}]
    assert security[("post", "/api/v1/catalog/feeds/stock")] == both
    assert security[("get", "/api/v1/orders/erp/orders")] == both
    assert security[("post", "/api/v1/pricing/bulk/price-lists")] == both
    assert security[("post", "/api/v1/pricing/price-lists")] == [{"bearer": []}]
    assert security[("get", "/api/v1/catalog/products")] == [{"bearer": []}]
    assert security[("post", "/api/v1/accounts/auth/login")] == []
    keyed = [op for op, s in security.items() if s == both]
    assert all(
        "/feeds/" in p
        or "/erp/" in p
        or "/pricing/bulk/" in p
        or p.endswith(("statements", "certificates"))
        for _, p in keyed
    ), keyed
    for (method, path), schemes in security.items():
        if schemes:
            assert "403" in paths[path][method]["responses"], f"{method} {path}"


def test_every_service_answers_problems_of_one_shape():
    documents = {service: apidocs.service_document(service) for service in apidocs.API_SERVICES}
    schemas = merge_documents(documents)["components"]["schemas"]
    assert "errors" in schemas["Problem"]["properties"]
    assert [
        n
        for n in schemas
        if n.endswith(("Problem", "FieldError"))
        and n != "Problem"
        and n != "FieldError"
        and schemas[n].get("title") in ("Problem", "FieldError")
    ] == []


def test_merge_is_deterministic_whatever_the_input_order():
    a = {"b": document("/z", "/a"), "a": document("/y")}
    b = {"a": document("/y"), "b": {**document("/a", "/z")}}
    assert json.dumps(merge_documents(a)) == json.dumps(merge_documents(b))
    assert camel("order_lines") == "OrderLines"


def test_the_real_services_merge_without_dangling_refs():
    documents = {service: apidocs.service_document(service) for service in apidocs.API_SERVICES}
    merged = merge_documents(documents)
    assert dangling_refs(merged) == []
    assert not [p for p in merged["paths"] if "/internal" in p or "/health/" in p]
    public = merged["paths"]["/api/v1/accounts/auth/login"]["post"]
    assert public["security"] == []
    assert merged["paths"]["/api/v1/accounts/api-keys"]["post"]["operationId"].startswith(
        "accounts_"
    )


class Widget(BaseModel):
    name: str


def widget_service() -> FastAPI:
    app = upstream_app("Widgets")

    @app.post("/widgets", operation_id="create_widget")
    async def create(widget: Widget) -> Widget:
        return widget

    app.router.routes.insert(0, app.router.routes.pop())
    return app


async def test_openapi_json_merges_the_live_services_and_names_the_missing(start_gateway):
    catalog = widget_service()
    gateway = await start_gateway({"catalog": catalog, "pricing": upstream_app()})
    async with client(gateway) as http:
        first = await http.get("/openapi.json")
        catalog.router.routes.clear()  # a cached document does not ask again
        second = await http.get("/openapi.json")
        docs = await http.get("/docs")
    assert first.status_code == 200
    merged = first.json()
    assert "/api/v1/catalog/widgets" in merged["paths"]
    assert "CatalogWidget" in merged["components"]["schemas"]
    assert merged["x-unavailable-services"] == ["accounts", "analytics", "notifications", "orders"]
    assert second.json() == merged
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text and "/openapi.json" in docs.text


async def test_ready_lists_the_services_that_are_down(start_gateway):
    everything = {name: upstream_app() for name in apidocs.API_SERVICES}
    all_up = await start_gateway(everything)
    some_down = await start_gateway({"accounts": upstream_app()})
    async with client(all_up) as http:
        live = await http.get("/health/live")
        ready = await http.get("/health/ready")
    async with client(some_down) as http:
        not_ready = await http.get("/health/ready")
    assert live.json() == {"status": "ok"}
    assert ready.status_code == 200 and set(ready.json()["checks"].values()) == {"ok"}
    assert not_ready.status_code == 503
    assert not_ready.headers["content-type"] == "application/problem+json"
    assert not_ready.json()["checks"]["accounts"] == "ok"
    assert not_ready.json()["checks"]["orders"] == "down"
    assert "orders" in not_ready.json()["detail"]


async def test_metrics_count_proxied_requests(start_gateway):
    gateway = await start_gateway({"catalog": upstream_app()})
    async with client(gateway, bearer(Role.BUYER)) as http:
        await http.get("/api/v1/catalog/products")
        metrics = await http.get("/metrics")
    assert metrics.status_code == 200
    assert 'route="/api/{service}/{path:path}"' in metrics.text


async def test_rate_limit_is_per_caller_with_retry_after(start_gateway):
    gateway = await start_gateway(
        {"catalog": upstream_app()}, rate_limit_per_minute=1, rate_limit_burst=2
    )
    alice, bob = bearer(Role.BUYER), bearer(Role.BUYER)
    async with client(gateway) as http:
        statuses = [
            (await http.get("/api/v1/catalog/x", headers=alice)).status_code for _ in range(3)
        ]
        limited = await http.get("/api/v1/catalog/x", headers=alice)
        other = await http.get("/api/v1/catalog/x", headers=bob)
    assert statuses == [200, 200, 429]
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert other.status_code == 200


async def test_bad_credentials_are_throttled_by_address(start_gateway):
    gateway = await start_gateway(
        {"catalog": upstream_app()}, rate_limit_per_minute=1, rate_limit_burst=2
    )
    guess = {"Authorization": "Bearer guessed.token.value"}
    async with client(gateway, guess) as http:
        statuses = [(await http.get("/api/v1/catalog/x")).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
