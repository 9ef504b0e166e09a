"""Who gets in, as whom, and where API keys may go."""

import time
import uuid

from shared.auth import Principal, Role, verify_principal_headers
from shared.settings import DEV_INTERNAL_SECRET
from shared.testing.fixtures import client
from tests.gateway.tokens import bearer
from tests.gateway.upstreams import accounts_stand_in, upstream_app

INTEGRATOR_KEY = "b2b_erp001_s3cr3t-integrator"
PARTNER_KEY = "b2b_shop01_s3cr3t-partner"
INTEGRATOR = Principal(
    kind="api_key", subject=str(uuid.uuid4()), roles={Role.INTEGRATOR}, name="ERP"
)
PARTNER = Principal(
    kind="api_key", subject=str(uuid.uuid4()), roles={Role.PARTNER}, partner_code="shop"
)


def accounts() -> object:
    return accounts_stand_in({INTEGRATOR_KEY: INTEGRATOR, PARTNER_KEY: PARTNER})


async def test_no_credentials_is_401_with_a_challenge(start_gateway):
    gateway = await start_gateway({"catalog": upstream_app()})
    async with client(gateway) as http:
        response = await http.get("/api/v1/catalog/products")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_bad_expired_and_odd_tokens_are_401(start_gateway):
    gateway = await start_gateway({"catalog": upstream_app()})
    cases = {
        "wrong secret": bearer(Role.BUYER, secret="another-secret-another-secret-0123"),
        "expired": bearer(Role.BUYER, now=time.time() - 7200),
        "garbage": {"Authorization": "Bearer not.a.jwt"},
        "other scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
        "people are not services": bearer(Role.SYSTEM),
    }
    async with client(gateway) as http:
        for case, headers in cases.items():
            response = await http.get("/api/v1/catalog/products", headers=headers)
            assert response.status_code == 401, case
            assert response.headers["www-authenticate"].startswith("Bearer"), case


async def test_public_paths_pass_without_credentials_even_with_a_stale_token(start_gateway):
    upstream = upstream_app()
    gateway = await start_gateway({"accounts": upstream})
    stale = bearer(Role.BUYER, now=time.time() - 7200)
    async with client(gateway) as http:
        login = await http.post("/api/v1/accounts/auth/login", json={"email": "a@b.c"})
        again = await http.post("/api/v1/accounts/auth/login", json={}, headers=stale)
        accept = await http.post("/api/v1/accounts/invitations/tok-123/accept", json={})
        not_public = await http.get("/api/v1/accounts/auth/login")
    assert [login.status_code, again.status_code, accept.status_code] == [200, 200, 200]
    assert verify_principal_headers(login.json()["headers"], DEV_INTERNAL_SECRET) is None
    assert not_public.status_code == 401


async def test_a_person_passes_everywhere_the_services_allow(start_gateway):
    gateway = await start_gateway({"orders": upstream_app()})
    async with client(gateway, bearer(Role.BUYER)) as http:
        response = await http.delete("/api/v1/orders/carts/1/lines/2")
    assert response.status_code == 200


async def test_integrator_key_only_reaches_feeds(start_gateway):
    gateway = await start_gateway({"accounts": accounts(), "catalog": upstream_app()})
    async with client(gateway, {"X-API-Key": INTEGRATOR_KEY}) as http:
        feed = await http.post("/api/v1/catalog/feeds/stock", content=b"sku,qty\nA,1\n")
        jobs = await http.get("/api/v1/accounts/feeds/jobs")
        products = await http.get("/api/v1/catalog/products")
        companies = await http.get("/api/v1/accounts/companies")
    assert feed.status_code == 200
    caller = verify_principal_headers(feed.json()["headers"], DEV_INTERNAL_SECRET)
    assert caller == INTEGRATOR
    assert jobs.status_code == 200
    assert products.status_code == 403
    assert companies.status_code == 403
    assert products.headers["content-type"] == "application/problem+json"


async def test_integrator_key_uploads_certificates_but_reads_no_products(start_gateway):
    gateway = await start_gateway({"accounts": accounts(), "catalog": upstream_app()})
    async with client(gateway, {"X-API-Key": INTEGRATOR_KEY}) as http:
        upload = await http.post("/api/v1/catalog/products/KN-100/certificates", content=b"x")
        listing = await http.get("/api/v1/catalog/products/KN-100/certificates")
    assert [upload.status_code, listing.status_code] == [200, 403]


async def test_integrator_key_reaches_bulk_policy_edits_and_a_partner_key_does_not(
    start_gateway,
):
    gateway = await start_gateway({"accounts": accounts(), "pricing": upstream_app()})
    async with client(gateway, {"X-API-Key": INTEGRATOR_KEY}) as http:
        lists = await http.post("/api/v1/pricing/bulk/price-lists", json={"items": []})
        groups = await http.post("/api/v1/pricing/bulk/client-groups/price-lists", json={})
        single = await http.post("/api/v1/pricing/price-lists", json={})
        read = await http.get("/api/v1/pricing/bulk/price-lists")
    assert [lists.status_code, groups.status_code] == [200, 200]
    assert verify_principal_headers(lists.json()["headers"], DEV_INTERNAL_SECRET) == INTEGRATOR
    assert [single.status_code, read.status_code] == [403, 403]
    async with client(gateway, {"X-API-Key": PARTNER_KEY}) as http:
        partner = await http.post("/api/v1/pricing/bulk/price-lists", json={"items": []})
    assert partner.status_code == 403


async def test_partner_key_only_reads_the_marketplace_and_price_feeds(start_gateway):
    gateway = await start_gateway(
        {"accounts": accounts(), "catalog": upstream_app(), "pricing": upstream_app()}
    )
    async with client(gateway, {"Authorization": f"ApiKey {PARTNER_KEY}"}) as http:
        marketplace = await http.get("/api/v1/catalog/feeds/marketplace/shop")
        prices = await http.get("/api/v1/pricing/feeds/prices/latest")
        upload = await http.post("/api/v1/catalog/feeds/marketplace/shop", content=b"x")
        stock_feed = await http.get("/api/v1/catalog/feeds/stock")
        products = await http.get("/api/v1/catalog/products")
    assert [marketplace.status_code, prices.status_code] == [200, 200]
    assert [upload.status_code, stock_feed.status_code, products.status_code] == [403, 403, 403]


async def test_verified_keys_are_cached_by_hash_and_failures_are_not(start_gateway):
    stand_in = accounts()
    gateway = await start_gateway({"accounts": stand_in, "catalog": upstream_app()})
    async with client(gateway) as http:
        for _ in range(3):
            ok = await http.get("/api/v1/catalog/feeds/jobs", headers={"X-API-Key": INTEGRATOR_KEY})
            assert ok.status_code == 200
        assert stand_in.state.verify_calls == 1
        for _ in range(2):
            unknown = await http.get(
                "/api/v1/catalog/feeds/jobs", headers={"X-API-Key": "b2b_no_such"}
            )
            assert unknown.status_code == 401
        assert stand_in.state.verify_calls == 3
        malformed = await http.get("/api/v1/catalog/feeds/jobs", headers={"X-API-Key": "hello"})
    assert malformed.status_code == 401
    assert stand_in.state.verify_calls == 3  # not worth asking accounts about
    cache = gateway.state.gateway.api_keys.cache
    assert INTEGRATOR_KEY not in repr(cache._items)


async def test_keys_cannot_be_checked_while_accounts_is_down(start_gateway):
    gateway = await start_gateway({"catalog": upstream_app()})
    async with client(gateway, {"X-API-Key": INTEGRATOR_KEY}) as http:
        response = await http.get("/api/v1/catalog/feeds/jobs")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_integrators_key_has_its_own_larger_allowance(start_gateway):
    """An ERP loading policy calls far more often than a person: its key is limited apart."""
    gateway = await start_gateway(
        {"accounts": accounts(), "catalog": upstream_app()},
        rate_limit_per_minute=1,
        rate_limit_burst=2,
        integrator_rate_limit_per_minute=1,
        integrator_rate_limit_burst=5,
    )
    async with client(gateway) as http:
        erp = [
            (
                await http.post(
                    "/api/v1/catalog/feeds/stock",
                    content=b"sku,qty\nA,1\n",
                    headers={"X-API-Key": INTEGRATOR_KEY},
                )
            ).status_code
            for _ in range(6)
        ]
        shop = [
            (
                await http.get(
                    "/api/v1/catalog/feeds/marketplace/shop", headers={"X-API-Key": PARTNER_KEY}
                )
            ).status_code
            for _ in range(3)
        ]
    assert erp == [200] * 5 + [429]
    assert shop[2] == 429 and 429 not in shop[:2]  # a partner's key counts as a person's
