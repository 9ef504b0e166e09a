"""The gateway's plain rules, without a server: routing, edge policy, rate limits, cache."""

import importlib
import uuid
from pathlib import Path

import orjson
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from services.gateway.domain.cache import TtlCache
from services.gateway.domain.policy import (
    DOCUMENT_UPLOADS,
    FEEDS,
    feed_of,
    is_document_upload,
    is_public,
    may_call,
)
from services.gateway.domain.ratelimit import RateLimiter
from services.gateway.domain.routes import resolve
from services.gateway.settings import SERVICES as ALL_SERVICES
from shared.auth import Principal, Role, Roles
from shared.problems import NotFound

SERVICES = {"accounts", "catalog", "pricing"}
OPENAPI = Path(__file__).resolve().parents[2] / "openapi"


def key(*roles: Role) -> Principal:
    return Principal(kind="api_key", subject=str(uuid.uuid4()), roles=frozenset(roles))


def test_resolve_keeps_the_callers_encoding_for_the_service():
    target = resolve("/api/catalog/skus/A%2FB/stock", SERVICES)
    assert target.service == "catalog"
    assert target.upstream_path == "/skus/A%2FB/stock"
    assert target.path == "/api/catalog/skus/A/B/stock"


@pytest.mark.parametrize(
    "path",
    [
        "/api/billing/invoices",
        "/api/accounts/internal/api-keys/verify",
        "/api/accounts/Internal/x",
        "/api/accounts/internal%2Fapi-keys%2Fverify",
        "/api/accounts/feeds/../internal/x",
        "/api/accounts/feeds/%2E%2E/internal/x",
        "/api/cat%61log/../accounts/internal",
        "/health/live",
    ],
)
def test_resolve_refuses_unknown_services_internal_and_dot_paths(path):
    with pytest.raises(NotFound):
        resolve(path, SERVICES)


def test_public_routes():
    assert is_public("POST", "/api/accounts/auth/login")
    assert is_public("POST", "/api/accounts/invitations/abc-123/accept")
    assert not is_public("GET", "/api/accounts/auth/login")
    assert not is_public("POST", "/api/accounts/invitations/a/b/accept")
    assert not is_public("POST", "/api/catalog/auth/login")
    assert is_public("POST", "/api/notifications/unsubscribe/tok.en")
    assert is_public("POST", "/api/notifications/surveys/tok.en")
    assert not is_public("GET", "/api/notifications/inbox")


@pytest.mark.parametrize(
    ("roles", "method", "path", "allowed"),
    [
        ((Role.INTEGRATOR,), "POST", "/api/pricing/feeds/prices", True),
        ((Role.INTEGRATOR,), "GET", "/api/accounts/feeds/jobs/1/rejections", True),
        ((Role.INTEGRATOR,), "POST", "/api/accounts/statements", True),
        ((Role.INTEGRATOR,), "GET", "/api/catalog/products", False),
        ((Role.INTEGRATOR,), "GET", "/api/catalog/products/feeds", False),
        ((Role.PARTNER,), "GET", "/api/catalog/feeds/marketplace/shop", True),
        ((Role.PARTNER,), "HEAD", "/api/pricing/feeds/prices", True),
        ((Role.PARTNER,), "POST", "/api/pricing/feeds/prices", False),
        ((Role.PARTNER,), "GET", "/api/pricing/feeds/partners/ozon/clients/1/prices", True),
        ((Role.INTEGRATOR,), "GET", "/api/pricing/feeds/prices/1/diff", True),
        ((Role.PARTNER,), "GET", "/api/catalog/feeds/stock", False),
        ((Role.PARTNER,), "GET", "/api/accounts/feeds/jobs", False),
        ((Role.INTEGRATOR,), "POST", "/api/pricing/bulk/price-lists", True),
        ((Role.INTEGRATOR,), "POST", "/api/pricing/bulk/clients/discounts", True),
        ((Role.INTEGRATOR,), "POST", "/api/pricing/bulk", False),
        ((Role.INTEGRATOR,), "PUT", "/api/pricing/client-groups/g/price-lists", False),
        ((Role.PARTNER,), "POST", "/api/pricing/bulk/price-lists", False),
        ((Role.ADMIN,), "GET", "/api/catalog/products", False),  # keys carry key roles only
        ((), "GET", "/api/pricing/feeds/prices", False),
    ],
)
def test_api_keys_reach_only_their_routes(roles, method, path, allowed):
    assert may_call(key(*roles), method, path) is allowed


def person(*roles: Role) -> Principal:
    return Principal(kind="user", subject=uuid.uuid4(), roles=frozenset(roles))


@pytest.mark.parametrize(
    ("caller", "method", "path", "feed"),
    [
        (key(Role.INTEGRATOR), "POST", "/api/pricing/feeds/prices", "upload"),
        (person(Role.ADMIN), "POST", "/api/catalog/feeds/stock", "upload"),
        (person(Role.PRICING_MANAGER), "POST", "/api/pricing/feeds/prices", "upload"),
        (key(Role.PARTNER), "GET", "/api/catalog/feeds/marketplace/shop", "download"),
        # a feed route, by a role that may not post it
        (person(Role.BUYER), "POST", "/api/pricing/feeds/prices", None),
        (person(Role.PRICING_MANAGER), "POST", "/api/catalog/feeds/stock", None),
        (key(Role.PARTNER), "POST", "/api/accounts/feeds/clients", None),
        (None, "POST", "/api/accounts/feeds/clients", None),
        # a path with a `feeds` segment that is no feed
        (person(Role.ADMIN), "POST", "/api/catalog/products/feeds", None),
        (person(Role.ADMIN), "POST", "/api/orders/feeds/anything", None),
        (key(Role.INTEGRATOR), "POST", "/api/pricing/feeds/prices/1/approve", None),
        (key(Role.INTEGRATOR), "GET", "/api/accounts/feeds/jobs", None),
    ],
)
def test_only_feed_routes_for_the_roles_that_may_use_them_get_the_feed_limits(
    caller, method, path, feed
):
    found = feed_of(caller, method, path)
    assert (found and ("upload" if found.upload else "download")) == feed


def test_the_feed_uploads_are_the_services_feeds_with_their_roles():
    """Every `POST /feeds/{kind}` a service declares, with the roles it lets post, and no more."""
    from services.accounts.api.feeds import SPECS as ACCOUNTS
    from services.catalog.api.feeds import SPECS as CATALOG
    from services.orders.api.feeds import SPECS as ORDERS
    from services.pricing.api.feeds import SPECS as PRICING

    services = (
        ("accounts", ACCOUNTS),
        ("catalog", CATALOG),
        ("pricing", PRICING),
        ("orders", ORDERS),
    )
    declared = {
        (f"/api/{service}/feeds/{spec.kind}", spec.roles)
        for service, specs in services
        for spec in specs
    }
    assert {(f.route.pattern, f.roles) for f in FEEDS if f.upload} == declared
    file_bodies = {path for path in _posts_taking("text/csv") if "/feeds/" in path}
    assert file_bodies == {pattern for pattern, _ in declared}


def _posts_taking(media_type: str) -> set[str]:
    """Gateway paths of the POSTs whose OpenAPI body may be `media_type`."""
    return {
        f"/api/{service}{path}"
        for service in ALL_SERVICES
        for path, operations in orjson.loads((OPENAPI / f"{service}.openapi.json").read_bytes())[
            "paths"
        ].items()
        if media_type in operations.get("post", {}).get("requestBody", {}).get("content", {})
    }


def _roles(dependant: Dependant) -> frozenset[Role]:
    """The roles a route admits, from its `allow(...)` parameter."""
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Roles):
            return dependency.call.allowed
        if roles := _roles(dependency):
            return roles
    return frozenset()


def _admitted(gateway_path: str) -> frozenset[Role]:
    _, _, service, path = gateway_path.split("/", 3)
    spec = importlib.import_module(f"services.{service}.app").SPEC
    (route,) = [
        route
        for router in spec.routers
        for route in router.routes
        if isinstance(route, APIRoute) and route.path == f"/{path}" and "POST" in route.methods
    ]
    return _roles(route.dependant)


# A multipart upload that is no document: a cart pasted from a spreadsheet, a JSON-sized body.
ORDINARY_UPLOADS = {"/api/orders/carts/{cart_id}/quick-order"}


def test_the_document_uploads_are_the_services_file_uploads_with_their_roles():
    """Every multipart upload a service declares gets the document limit for the roles its
    route admits, but the ordinary ones named above; a new one must be put in one of the two."""
    uploads = _posts_taking("multipart/form-data") - ORDINARY_UPLOADS
    assert {u.route.pattern for u in DOCUMENT_UPLOADS} == uploads
    for upload in DOCUMENT_UPLOADS:
        assert upload.roles == _admitted(upload.route.pattern), upload.route.pattern


@pytest.mark.parametrize(
    ("caller", "method", "path", "document"),
    [
        (key(Role.INTEGRATOR), "POST", "/api/accounts/statements", True),
        (person(Role.ADMIN), "POST", "/api/catalog/products/KN-100/certificates", True),
        (key(Role.INTEGRATOR), "POST", "/api/orders/erp/orders/SO-1/documents", True),
        # an upload route, by a role that may not post it
        (person(Role.BUYER), "POST", "/api/orders/erp/orders/SO-1/documents", False),
        (person(Role.SALES_MANAGER), "POST", "/api/catalog/products/KN-100/certificates", False),
        (key(Role.PARTNER), "POST", "/api/accounts/statements", False),
        (None, "POST", "/api/accounts/statements", False),
        # a path ending in a document collection that takes no upload
        (person(Role.ADMIN), "POST", "/api/orders/orders/1/documents", False),
        (person(Role.ADMIN), "POST", "/api/orders/carts/documents", False),
        (person(Role.ADMIN), "POST", "/api/notifications/certificates", False),
        (key(Role.INTEGRATOR), "PUT", "/api/accounts/statements", False),
        (person(Role.ADMIN), "POST", "/api/accounts/companies/1/statements", False),
    ],
)
def test_only_document_upload_routes_for_the_roles_that_post_them_get_the_document_limit(
    caller, method, path, document
):
    assert is_document_upload(caller, method, path) is document


def test_people_pass_the_edge():
    person = Principal(kind="user", subject=uuid.uuid4(), roles=frozenset({Role.BUYER}))
    assert may_call(person, "DELETE", "/api/catalog/products/1")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_burst_then_refills_at_the_rate():
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("a") == 1
    assert limiter.take("b") == 0  # callers do not share a bucket
    clock.now += 0.5
    assert limiter.take("a") == 1  # half a token is not a request
    clock.now += 0.5
    assert limiter.take("a") == 0
    clock.now += 3600
    assert [limiter.take("a") for _ in range(4)] == [0, 0, 0, 1]  # never above the burst


def test_retry_after_is_whole_seconds_until_the_next_token():
    clock = Clock()
    limiter = RateLimiter(per_minute=6, burst=1, clock=clock)
    assert limiter.take("a") == 0
    assert limiter.take("a") == 10
    clock.now += 9.5
    assert limiter.take("a") == 1


def test_zero_rate_turns_limiting_off():
    limiter = RateLimiter(per_minute=0, burst=1)
    assert all(limiter.take("a") == 0 for _ in range(1000))


def test_idle_callers_are_forgotten_when_the_table_is_full():
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=2, clock=clock, max_callers=2)
    limiter.take("a")
    clock.now += 10
    limiter.take("b")
    limiter.take("c")  # "a" has refilled long ago and goes; "b" is still draining
    assert set(limiter._buckets) == {"b", "c"}


def test_cache_expires_and_never_keeps_more_than_it_may():
    clock = Clock()
    cache: TtlCache[str] = TtlCache(30, clock, max_items=2)
    cache.put("k1", "v1")
    assert cache.get("k1") == "v1"
    clock.now += 30
    assert cache.get("k1") is None
    for name in ("a", "b", "c"):
        cache.put(name, name)
    assert cache.get("c") == "c"
    assert len(cache._items) == 2
    off: TtlCache[str] = TtlCache(0, clock)
    off.put("k", "v")
    assert off.get("k") is None
