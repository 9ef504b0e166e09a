"""The gateway: authentication, edge rules, forwarding, limits, failures and merged docs."""

from __future__ import annotations

import time
import uuid

import jwt

from services.gateway.domain.ratelimit import RateLimiter
from services.gateway.openapi.service import merge_documents
from shared.auth import Role
from shared.settings import DEV_JWT_SECRET
from shared.testing.fixtures import as_role, client
from shared.tokens import issue_access_token


async def admin_token(gw) -> str:
    async with client(gw) as http:
        response = await http.post(
            "/api/v1/accounts/auth/login", json={"email": "admin@example.com", "password": "admin"}
        )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_login_then_call_a_service_with_the_token(gateway):
    gw = await gateway()
    token = await admin_token(gw)
    async with client(gw, bearer(token)) as http:
        me = await http.get("/api/v1/accounts/me")
    assert me.status_code == 200
    assert me.json()["email"] == "admin@example.com"


async def test_missing_bad_and_expired_credentials_are_401(gateway):
    gw = await gateway()
    expired = issue_access_token(
        DEV_JWT_SECRET,
        user_id=uuid.uuid4(),
        roles=[Role.ADMIN],
        company_id=None,
        companies=[],
        now=time.time() - 7200,
    )
    forged = jwt.encode(
        {"sub": "x", "iss": "b2b-accounts", "exp": time.time() + 60, "roles": ["admin"]},
        "guess-the-secret-guess-the-secret!!",
    )
    async with client(gw) as http:
        missing = await http.get("/api/v1/accounts/me")
        bad = await http.get("/api/v1/accounts/me", headers=bearer(forged))
        old = await http.get("/api/v1/accounts/me", headers=bearer(expired))
        odd = await http.get("/api/v1/accounts/me", headers={"Authorization": "Basic abc"})
    assert [r.status_code for r in (missing, bad, old, odd)] == [401, 401, 401, 401]
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.headers["content-type"] == "application/problem+json"


async def test_api_keys_reach_only_their_feeds(gateway):
    gw = await gateway(api_key_cache_seconds=0)
    async with client(gw, bearer(await admin_token(gw))) as http:
        integrator = (
            await http.post("/api/v1/accounts/api-keys", json={"name": "ERP", "role": "integrator"})
        ).json()
        partner = (
            await http.post(
                "/api/v1/accounts/api-keys",
                json={"name": "Shop", "role": "partner", "partner_code": "shop"},
            )
        ).json()
    async with client(gw, {"X-API-Key": integrator["key"]}) as http:
        jobs = await http.get("/api/v1/accounts/feeds/jobs")
        companies = await http.get("/api/v1/accounts/companies")
    async with client(gw, {"Authorization": f"ApiKey {partner['key']}"}) as http:
        partner_companies = await http.get("/api/v1/accounts/companies")
        partner_feed_upload = await http.post("/api/v1/accounts/feeds/clients", content=b"x")
    async with client(gw, {"X-API-Key": integrator["key"] + "tampered"}) as http:
        wrong = await http.get("/api/v1/accounts/feeds/jobs")
    assert jobs.status_code == 200 and jobs.json()["items"] == []
    assert companies.status_code == 403
    assert partner_companies.status_code == 403
    assert partner_feed_upload.status_code == 403
    assert wrong.status_code == 401

    async with client(gw, bearer(await admin_token(gw))) as http:
        await http.delete(f"/api/v1/accounts/api-keys/{integrator['id']}")
    async with client(gw, {"X-API-Key": integrator["key"]}) as http:
        assert (await http.get("/api/v1/accounts/feeds/jobs")).status_code == 401


async def test_internal_endpoints_and_unknown_services_are_404(gateway):
    gw = await gateway()
    async with client(gw, as_role(Role.ADMIN) | bearer(await admin_token(gw))) as http:
        internal = await http.post("/api/v1/accounts/internal/api-keys/verify", json={"key": "x"})
        unknown = await http.get("/api/v1/nosuch/things")
    assert internal.status_code == 404 and unknown.status_code == 404


async def test_forged_principal_headers_are_replaced_and_request_is_forwarded_whole(gateway):
    gw = await gateway()
    user = uuid.uuid4()
    token = issue_access_token(
        DEV_JWT_SECRET, user_id=user, roles=[Role.BUYER], company_id=None, companies=[]
    )
    forged_admin = as_role(Role.ADMIN)
    async with client(gw, {**forged_admin, **bearer(token), "X-Request-ID": "req-42"}) as http:
        response = await http.post("/api/v1/orders/carts/lines?sku=A&sku=B", content=b"x" * 5000)
    echoed = response.json()
    assert response.status_code == 200
    assert echoed["principal"]["subject"] == str(user) and echoed["principal"]["roles"] == ["buyer"]
    assert echoed["path"] == "carts/lines" and echoed["query"] == "sku=A&sku=B"
    assert echoed["body_bytes"] == 5000
    assert echoed["headers"]["x-request-id"] == "req-42"
    assert "authorization" not in echoed["headers"]
    assert response.headers["x-request-id"] == "req-42"


async def test_bodies_over_the_limit_are_413(gateway):
    gw = await gateway(max_body_bytes=1000)
    token = bearer(await admin_token(gw))

    async def chunks():
        for _ in range(10):
            yield b"y" * 500

    async with client(gw, token) as http:
        declared = await http.post("/api/v1/orders/x", content=b"x" * 2000)
        streamed = await http.post("/api/v1/orders/x", content=chunks())
        small = await http.post("/api/v1/orders/x", content=b"x" * 900)
    assert (
        declared.status_code == 413
        and declared.headers["content-type"] == "application/problem+json"
    )
    assert streamed.status_code == 413
    assert small.status_code == 200


async def test_rate_limit_answers_429_with_retry_after(gateway):
    gw = await gateway(rate_limit_burst=3, rate_limit_per_minute=6)
    token = bearer(await admin_token(gw))  # the login itself is the first request of "ip:..."
    async with client(gw, token) as http:
        statuses = [(await http.get("/api/v1/orders/ping")).status_code for _ in range(4)]
        limited = await http.get("/api/v1/orders/ping")
    assert statuses[:3] == [200, 200, 200] and 429 in [*statuses, limited.status_code]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1


def test_token_bucket_refills_at_the_configured_rate():
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    assert [limiter.take("k"), limiter.take("k")] == [0, 0]
    assert limiter.take("k") == 1
    assert limiter.take("other") == 0
    now[0] += 1.0
    assert limiter.take("k") == 0


async def test_a_service_that_is_down_is_a_503_problem_and_not_ready(gateway):
    gw = await gateway()
    async with client(gw, bearer(await admin_token(gw))) as http:
        down = await http.get("/api/v1/catalog/products")
        ready = await http.get("/health/ready")
    assert down.status_code == 503 and down.headers["content-type"] == "application/problem+json"
    assert ready.status_code == 503 and ready.json()["checks"]["catalog"] == "down"
    assert ready.json()["checks"]["accounts"] == "ok"


async def test_merged_openapi_and_swagger_ui_are_served(gateway):
    gw = await gateway()
    async with client(gw) as http:
        document = (await http.get("/openapi.json")).json()
        docs = await http.get("/docs")
    assert "/api/v1/accounts/auth/login" in document["paths"]
    assert not any("/internal/" in p or p.endswith("/health/live") for p in document["paths"])
    assert "catalog" in document["x-unavailable-services"]
    assert docs.status_code == 200 and "/openapi.json" in docs.text


def test_merge_prefixes_paths_schemas_refs_and_operation_ids():
    ref = {"$ref": "#/components/schemas/Page"}
    one = {
        "paths": {
            "/things": {
                "get": {
                    "operationId": "list",
                    "tags": ["things"],
                    "responses": {"200": {"content": {"application/json": {"schema": ref}}}},
                }
            },
            "/internal/secret": {"post": {"operationId": "secret"}},
            "/health/live": {"get": {"operationId": "live"}},
        },
        "components": {
            "schemas": {
                "Page": {
                    "type": "object",
                    "properties": {"item": {"$ref": "#/components/schemas/Thing"}},
                },
                "Thing": {},
            }
        },
    }
    two = {
        "paths": {
            "/things": {
                "get": {
                    "operationId": "list",
                    "responses": {"200": {"content": {"application/json": {"schema": ref}}}},
                }
            }
        },
        "components": {"schemas": {"Page": {}, "Unused": {}}},
    }
    merged = merge_documents({"catalog": one, "order_lines": two})
    assert sorted(merged["paths"]) == ["/api/v1/catalog/things", "/api/v1/order_lines/things"]
    operation = merged["paths"]["/api/v1/catalog/things"]["get"]
    assert operation["operationId"] == "catalog_list" and operation["tags"] == ["catalog: things"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CatalogPage"
    }
    assert merged["components"]["schemas"]["CatalogPage"]["properties"]["item"] == {
        "$ref": "#/components/schemas/CatalogThing"
    }
    assert {"CatalogPage", "CatalogThing", "OrderLinesPage"} <= set(merged["components"]["schemas"])
    assert "OrderLinesUnused" not in merged["components"]["schemas"]  # nothing refers to it
    assert merge_documents({"catalog": one, "order_lines": two}) == merged
