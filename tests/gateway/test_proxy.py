"""Requests go through to the service with what it needs, and come back as the service sent them."""

import uuid

from shared.auth import (
    PRINCIPAL_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Role,
    verify_principal_headers,
)
from shared.settings import DEV_INTERNAL_SECRET
from shared.testing.fixtures import client, principal, signed
from tests.gateway.tokens import bearer
from tests.gateway.upstreams import upstream_app

USER = uuid.uuid4()


async def test_request_reaches_the_service_with_a_fresh_signed_principal(start_gateway):
    gateway = await start_gateway({"catalog": upstream_app()})
    forged = signed(principal(Role.ADMIN), secret=DEV_INTERNAL_SECRET)
    headers = {
        **bearer(Role.BUYER, user_id=USER),
        **forged,
        "X-Request-ID": "req-123",
        "Idempotency-Key": "k-1",
        "If-Match": '"v7"',
        "Cookie": "session=secret",
    }
    async with client(gateway, headers) as http:
        response = await http.post(
            "/api/v1/catalog/products/search?q=bolt&page=2", json={"sku": "A-1"}
        )
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["method"] == "POST"
    assert seen["path"] == "/products/search"
    assert seen["query"] == "q=bolt&page=2"
    assert seen["body"] == '{"sku":"A-1"}'
    sent = seen["headers"]
    assert sent["content-type"] == "application/json"
    assert sent["idempotency-key"] == "k-1"
    assert sent["if-match"] == '"v7"'
    assert sent["x-request-id"] == "req-123"
    assert sent["x-forwarded-prefix"] == "/api/v1/catalog"
    assert "authorization" not in sent and "cookie" not in sent
    assert sent[PRINCIPAL_HEADER] != forged[PRINCIPAL_HEADER]
    caller = verify_principal_headers(sent, DEV_INTERNAL_SECRET)
    assert caller is not None
    assert caller.user_id == USER
    assert caller.roles == {Role.BUYER}
    assert response.headers["x-request-id"] == "req-123"


async def test_forged_principal_headers_never_reach_the_service_on_public_paths(start_gateway):
    gateway = await start_gateway({"accounts": upstream_app()})
    async with client(gateway, signed(principal(Role.ADMIN))) as http:
        response = await http.post("/api/v1/accounts/auth/login", json={"email": "a@b.c"})
    sent = response.json()["headers"]
    assert not {PRINCIPAL_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER} & set(sent)


async def test_a_request_id_is_made_when_the_caller_sends_none(start_gateway):
    gateway = await start_gateway({"catalog": upstream_app()})
    async with client(gateway, bearer(Role.BUYER)) as http:
        response = await http.get("/api/v1/catalog/anything")
    sent = response.json()["headers"]
    assert sent["x-request-id"]
    assert response.headers["x-request-id"] == sent["x-request-id"]
    assert response.headers.get_list("x-request-id") == [sent["x-request-id"]]


async def test_status_headers_and_links_come_back_as_the_gateway_path(start_gateway):
    gateway = await start_gateway({"catalog": upstream_app()})
    async with client(gateway, bearer(Role.ADMIN)) as http:
        created = await http.post("/api/v1/catalog/things", json={})
        problem = await http.get("/api/v1/catalog/widgets/not-a-number")
    assert created.status_code == 201
    assert created.headers["location"] == "/api/v1/catalog/things/1"
    assert created.headers["etag"] == '"v1"'
    assert created.json() == {"id": "1"}
    assert problem.status_code == 422
    assert problem.headers["content-type"] == "application/problem+json"


async def test_encoded_path_segments_are_forwarded_as_sent(start_gateway):
    gateway = await start_gateway({"catalog": upstream_app()})
    async with client(gateway, bearer(Role.BUYER)) as http:
        response = await http.get("/api/v1/catalog/skus/A%2FB%20C")
    assert response.json()["raw_path"] == "/skus/A%2FB%20C"


async def test_request_body_streams_through_without_a_length(start_gateway):
    gateway = await start_gateway({"catalog": upstream_app()})

    async def chunks():
        for _ in range(64):
            yield b"y" * 1024

    async with client(gateway, bearer(Role.ADMIN)) as http:
        response = await http.put("/api/v1/catalog/blob", content=chunks())
    assert response.status_code == 200
    assert response.json()["size"] == 64 * 1024


async def test_unknown_service_and_internal_paths_are_404(start_gateway):
    gateway = await start_gateway({"accounts": upstream_app()})
    async with client(gateway, bearer(Role.ADMIN)) as http:
        unknown = await http.get("/api/v1/billing/invoices")
        internal = await http.post("/api/v1/accounts/internal/api-keys/verify", json={})
        encoded = await http.post("/api/v1/accounts/internal%2Fapi-keys%2Fverify", json={})
        dotted = await http.get("/api/v1/accounts/feeds/%2e%2e/internal/x")
        no_service = await http.get("/api")
    for response in (unknown, internal, encoded, dotted, no_service):
        assert response.status_code == 404, response.url
        assert response.headers["content-type"] == "application/problem+json"
    assert gateway.state.gateway.upstreams  # the service was never asked
    assert "billing" in unknown.json()["detail"]


async def test_body_over_the_limit_is_413_declared_or_streamed(start_gateway):
    upstream = upstream_app()
    gateway = await start_gateway({"catalog": upstream}, max_body_bytes=1000)

    async def chunks():
        for _ in range(10):
            yield b"z" * 500

    async with client(gateway, bearer(Role.ADMIN)) as http:
        declared = await http.post("/api/v1/catalog/products", content=b"z" * 1001)
        streamed = await http.post("/api/v1/catalog/products", content=chunks())
        fits = await http.post("/api/v1/catalog/products", content=b"z" * 1000)
    assert declared.status_code == 413
    assert declared.headers["content-type"] == "application/problem+json"
    assert streamed.status_code == 413
    assert streamed.json()["type"].endswith("payload-too-large")
    assert fits.status_code == 200
    # The declared one never left the gateway; the streamed one was cut off on the way.
    assert upstream.state.hits == 2


async def test_feed_paths_take_the_larger_feed_limit(start_gateway):
    gateway = await start_gateway(
        {"pricing": upstream_app()}, max_body_bytes=1000, max_feed_body_bytes=5000
    )
    async with client(gateway, bearer(Role.ADMIN)) as http:
        feed = await http.post("/api/v1/pricing/feeds/prices", content=b"a" * 4000)
        too_big = await http.post("/api/v1/pricing/feeds/prices", content=b"a" * 5001)
    assert feed.status_code == 200
    assert feed.json()["size"] == 4000
    assert too_big.status_code == 413


async def test_the_feed_limits_are_only_for_feed_routes_and_the_roles_that_post_them(
    start_gateway, serve
):
    gateway = await start_gateway(
        {"orders": upstream_app(), "catalog": upstream_app()},
        pricing_url=await serve(upstream_app()),
        max_body_bytes=1000,
        max_feed_body_bytes=5000,
        upstream_timeout_seconds=0.3,
        feed_timeout_seconds=5.0,
    )
    feed = b"sku,price\n" + b"a" * 3990
    async with client(gateway, bearer(Role.BUYER)) as buyer:
        buyers_feed = await buyer.post("/api/v1/pricing/feeds/prices", content=feed)
        buyers_slow_feed = await buyer.post("/api/v1/pricing/feeds/prices?delay=0.6", content=b"x")
    async with client(gateway, bearer(Role.ADMIN)) as admin:
        not_a_feed = await admin.post("/api/v1/catalog/products/feeds", content=feed)
        nor_this = await admin.post("/api/v1/orders/feeds/prices", content=feed)
        slow_not_a_feed = await admin.post("/api/v1/pricing/prices/feeds?delay=0.6", content=b"x")
        admins_feed = await admin.post("/api/v1/pricing/feeds/prices?delay=0.6", content=feed)
    async with client(gateway, bearer(Role.PRICING_MANAGER)) as pricing_manager:
        price_feed = await pricing_manager.post("/api/v1/pricing/feeds/prices", content=feed)
        stock_feed = await pricing_manager.post("/api/v1/catalog/feeds/stock", content=feed)
    assert [buyers_feed.status_code, not_a_feed.status_code, nor_this.status_code] == [413] * 3
    assert [buyers_slow_feed.status_code, slow_not_a_feed.status_code] == [504, 504]
    assert admins_feed.status_code == 200 and admins_feed.json()["size"] == len(feed)
    assert price_feed.status_code == 200
    assert stock_feed.status_code == 413  # a pricing manager posts price feeds only


async def test_only_document_uploads_by_their_roles_take_the_document_limit(start_gateway):
    gateway = await start_gateway(
        {"orders": upstream_app(), "catalog": upstream_app()},
        max_body_bytes=1000,
        max_document_body_bytes=5000,
    )
    scan = b"a" * 4000
    async with client(gateway, bearer(Role.ADMIN)) as admin:
        invoice = await admin.post("/api/v1/orders/erp/orders/SO-1/documents", content=scan)
        too_big = await admin.post("/api/v1/orders/erp/orders/SO-1/documents", content=scan * 2)
        certificate = await admin.post("/api/v1/catalog/products/KN-100/certificates", content=scan)
        not_an_upload = await admin.post("/api/v1/orders/orders/SO-1/documents", content=scan)
        nor_this = await admin.post("/api/v1/catalog/anything/certificates", content=scan)
        not_a_document = await admin.post("/api/v1/orders/carts", content=scan)
    async with client(gateway, bearer(Role.BUYER)) as buyer:
        buyers_invoice = await buyer.post("/api/v1/orders/erp/orders/SO-1/documents", content=scan)
    assert invoice.status_code == 200 and invoice.json()["size"] == 4000
    assert certificate.status_code == 200 and certificate.json()["size"] == 4000
    assert too_big.status_code == 413
    assert [not_an_upload.status_code, nor_this.status_code, not_a_document.status_code] == [
        413
    ] * 3
    assert buyers_invoice.status_code == 413  # a buyer uploads no ERP documents


async def test_bulk_policy_edits_by_their_roles_take_the_bulk_limit(start_gateway):
    gateway = await start_gateway(
        {"pricing": upstream_app()}, max_body_bytes=1000, max_bulk_body_bytes=5000
    )
    batch = b"a" * 4000
    async with client(gateway, bearer(Role.ADMIN)) as admin:
        lists = await admin.post("/api/v1/pricing/bulk/price-lists", content=batch)
        too_big = await admin.post("/api/v1/pricing/bulk/price-lists", content=batch * 2)
        not_bulk = await admin.post("/api/v1/pricing/price-lists", content=batch)
    async with client(gateway, bearer(Role.BUYER)) as buyer:
        buyers = await buyer.post("/api/v1/pricing/bulk/price-lists", content=batch)
    assert lists.status_code == 200 and lists.json()["size"] == 4000
    assert [too_big.status_code, not_bulk.status_code, buyers.status_code] == [413] * 3


async def test_service_down_is_503_and_slow_service_is_504(start_gateway, serve):
    slow_catalog = await serve(upstream_app())
    gateway = await start_gateway(catalog_url=slow_catalog, upstream_timeout_seconds=0.3)
    async with client(gateway, bearer(Role.BUYER)) as http:
        down = await http.get("/api/v1/orders/orders")
        slow = await http.get("/api/v1/catalog/slow")
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    assert "orders" in down.json()["detail"]
    assert slow.status_code == 504
    assert slow.json()["status"] == 504


async def test_through_real_sockets_bodies_stream_both_ways(start_gateway, serve):
    gateway = await start_gateway(catalog_url=await serve(upstream_app()))

    async def chunks():
        for _ in range(256):
            yield b"u" * 4096

    async with client(gateway, bearer(Role.ADMIN)) as http:
        upload = await http.post("/api/v1/catalog/feeds/stock", content=chunks())
        download = await http.get("/api/v1/catalog/download", params={"size": 2 * 1024 * 1024})
    assert upload.status_code == 200
    assert upload.json()["size"] == 256 * 4096
    assert upload.json()["headers"]["transfer-encoding"] == "chunked"
    assert download.status_code == 200
    assert len(download.content) == 2 * 1024 * 1024
    assert download.headers["content-type"].startswith("text/csv")


async def test_head_answers_headers_only(start_gateway, serve):
    gateway = await start_gateway(catalog_url=await serve(upstream_app()))
    async with client(gateway, bearer(Role.BUYER)) as http:
        response = await http.head("/api/v1/catalog/anything")
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) > 0  # the length a GET would have


async def test_the_unversioned_prefix_still_answers_but_says_it_is_deprecated(start_gateway):
    gateway = await start_gateway({"catalog": upstream_app()})
    async with client(gateway, bearer(Role.BUYER)) as http:
        old = await http.post("/api/catalog/products/search?q=bolt", json={"sku": "A-1"})
        new = await http.post("/api/v1/catalog/products/search?q=bolt", json={"sku": "A-1"})
    assert old.status_code == new.status_code == 200
    assert old.json()["path"] == new.json()["path"] == "/products/search"
    assert old.json()["headers"]["x-forwarded-prefix"] == "/api/catalog"
    assert old.headers["deprecation"] == "true"
    assert old.headers["link"] == '</api/v1/catalog/products/search>; rel="successor-version"'
    assert "deprecation" not in new.headers
