"""Marketplace feeds through the ASGI app, priced by the real pricing app, on real PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid

import pytest
from sqlalchemy import text

from services.catalog.events import CONSUMERS
from shared.auth import Role
from shared.clock import utcnow
from shared.contracts.pricing import PriceChangedV1
from shared.events.consumer import Outcome
from shared.events.envelope import CloudEvent
from shared.testing.fixtures import as_role, client
from tests.catalog.world import ATTRIBUTES, ERP, STOCK, as_csv, feed
from tests.events import consumer_of
from tests.pricing import world as pricing_world

ADMIN = as_role(Role.ADMIN)
ORDERS = as_role(Role.SYSTEM, kind="system", subject="orders")
SHOP = as_role(Role.PARTNER, kind="api_key", subject="shop-key", partner_code="shop")
MALL = as_role(Role.PARTNER, kind="api_key", subject="mall-key", partner_code="mall")
PRICES = "list,client,sku,min_qty,price_minor,currency,valid_from,valid_to\n"


def product(sku: str, **more) -> dict:
    return {"sku": sku, "name": f"Product {sku}", "brand": "Knauf", "status": None} | more


@pytest.fixture
async def stack(start_app):
    """Pricing with a SHOP list (two tiers for B-1, C-1 unpriced) and catalog calling it."""
    pricing = await start_app("pricing")
    await pricing_world.seed_skus(pricing, [(s, "Knauf", None) for s in ("A-1", "B-1", "D-1")])
    await pricing_world.add_list(pricing, "BASE", base=True)
    await pricing_world.add_list(pricing, "SHOP")
    await pricing_world.add_list(pricing, "MALL", currency="USD")
    job = await pricing_world.feed(
        pricing,
        PRICES
        + "BASE,,A-1,1,1000,EUR,,\n"
        + "SHOP,,A-1,1,900,EUR,,\n"
        + "SHOP,,B-1,1,2000,EUR,,\n"
        + "SHOP,,B-1,10,1800,EUR,,\n"
        + "SHOP,,D-1,1,500,EUR,,\n"
        + "MALL,,A-1,1,1100,USD,,\n",
    )
    assert job["state"] == "succeeded", job
    catalog = await start_app("catalog", upstreams={"pricing": pricing})
    assert (await feed(catalog, ATTRIBUTES, "attributes"))["state"] == "succeeded"
    posted = await feed(
        catalog,
        as_csv(
            [
                product(
                    "A-1",
                    attributes='{"color": "red"}',
                    images="https://cdn.example.com/a1.jpg https://cdn.example.com/a1-b.jpg",
                ),
                product("B-1", name='Board "12,5 mm"'),
                product("C-1"),
                product("D-1", status="discontinued"),
            ]
        ),
    )
    assert posted["state"] == "succeeded", posted
    stock = STOCK + "A-1,MSK,5,\nA-1,SPB,2.5,\nB-1,MSK,0,\n"
    assert (await feed(catalog, stock, "stock"))["state"] == "succeeded"
    async with client(catalog, ADMIN) as http:
        for code, price_list in (("shop", "SHOP"), ("mall", "MALL")):
            put = await http.put(
                f"/marketplace/partners/{code}", json={"name": code, "price_list_code": price_list}
            )
            assert put.status_code == 201, put.text
    return pricing, catalog


def lines(body: str) -> list[dict]:
    return [json.loads(line) for line in body.splitlines()]


async def test_a_partner_pulls_its_assortment_with_its_prices_and_stock(stack):
    _, catalog = stack
    async with client(catalog, SHOP) as http:
        answer = await http.get("/feeds/marketplace/shop")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    rows = lines(answer.text)
    # C-1 has no SHOP price, D-1 is discontinued: neither is offered.
    assert [r["sku"] for r in rows] == ["A-1", "B-1"]
    a, b = rows
    assert (a["price_minor"], a["currency"], a["available"]) == (900, "EUR", "7.5")
    assert a["attributes"] == {"color": "red"}
    assert a["images"] == ["https://cdn.example.com/a1.jpg", "https://cdn.example.com/a1-b.jpg"]
    assert a["tiers"] == [{"min_qty": "1", "price_minor": 900}]
    assert answer.text.startswith('{"sku":"A-1","name":"Product A-1",')  # compact, in order
    assert (b["price_minor"], b["available"], b["name"]) == (2000, "0", 'Board "12,5 mm"')
    assert b["tiers"] == [
        {"min_qty": "1", "price_minor": 2000},
        {"min_qty": "10", "price_minor": 1800},
    ]


async def test_csv_by_accept_header_or_parameter_and_another_partner_another_list(stack):
    _, catalog = stack
    async with client(catalog, SHOP) as http:
        by_header = await http.get("/feeds/marketplace/shop", headers={"Accept": "text/csv"})
        by_param = await http.get("/feeds/marketplace/shop", params={"format": "csv"})
    assert by_header.headers["content-type"].startswith("text/csv")
    assert by_header.text == by_param.text
    assert by_header.headers["etag"] == by_param.headers["etag"]
    rows = list(csv.DictReader(io.StringIO(by_header.text)))
    assert [(r["sku"], r["price_minor"], r["currency"], r["available"]) for r in rows] == [
        ("A-1", "900", "EUR", "7.5"),
        ("B-1", "2000", "EUR", "0"),
    ]
    assert rows[1]["name"] == 'Board "12,5 mm"'  # quoted as CSV needs
    assert rows[0]["images"] == "https://cdn.example.com/a1.jpg https://cdn.example.com/a1-b.jpg"
    async with client(catalog, MALL) as http:
        mall = lines((await http.get("/feeds/marketplace/mall")).text)
    assert [(r["sku"], r["price_minor"], r["currency"]) for r in mall] == [("A-1", 1100, "USD")]


async def test_an_unchanged_feed_is_a_304_without_asking_pricing(stack):
    pricing, catalog = stack
    async with client(catalog, SHOP) as http:
        first = await http.get("/feeds/marketplace/shop")
        etag = first.headers["etag"]
        # Were pricing asked, the feed would fail now: its list is gone behind its back.
        await pricing_world.sql(pricing, "DELETE FROM price_lists WHERE code = 'SHOP'")
        again = await http.get("/feeds/marketplace/shop", headers={"If-None-Match": etag})
        csv_etag = await http.get(
            "/feeds/marketplace/shop",
            params={"format": "csv"},
            headers={"If-None-Match": etag},
        )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    # Another representation has another tag, so it is not "unchanged".
    assert csv_etag.status_code == 409
    assert csv_etag.json()["type"].endswith("price-list-missing")


async def test_the_etag_moves_with_stock_products_prices_and_the_partners_list(stack):
    _, catalog = stack

    async def etag() -> str:
        async with client(catalog, SHOP) as http:
            answer = await http.get("/feeds/marketplace/shop")
            assert answer.status_code == 200, answer.text
            return answer.headers["etag"]

    seen = [await etag()]
    assert await etag() == seen[-1]
    async with client(catalog, ORDERS) as http:
        held = await http.post(
            "/reservations",
            json={"reference": "r-1", "lines": [{"sku": "A-1", "quantity": "2"}]},
        )
        assert held.status_code == 201, held.text
    seen.append(await etag())
    async with client(catalog, SHOP) as http:
        assert lines((await http.get("/feeds/marketplace/shop")).text)[0]["available"] == "5.5"
    assert (await feed(catalog, as_csv([product("A-1", name="Renamed")])))["state"] == "succeeded"
    seen.append(await etag())
    consumer = consumer_of(catalog, "catalog", CONSUMERS["catalog"])
    changed = PriceChangedV1(
        change_id=uuid.uuid4(), cause="feed:x", list_codes=["BASE"], changed_at=utcnow()
    )
    envelope = CloudEvent(
        source="/b2b/pricing",
        type=changed.full_type(),
        subject=changed.aggregate_id(),
        data=changed.model_dump(mode="json"),
    )
    assert await consumer.apply(envelope) == Outcome.APPLIED
    seen.append(await etag())
    assert await consumer.apply(envelope) == Outcome.DUPLICATE  # a redelivery moves nothing
    assert await etag() == seen[-1]
    clients_only = PriceChangedV1(
        change_id=uuid.uuid4(), cause="x", client_ids=[uuid.uuid4()], changed_at=utcnow()
    )
    await consumer.apply(
        CloudEvent(
            source="/b2b/pricing",
            type=clients_only.full_type(),
            subject=clients_only.aggregate_id(),
            data=clients_only.model_dump(mode="json"),
        )
    )
    assert await etag() == seen[-1]  # a client's own prices are not in any feed
    async with client(catalog, ADMIN) as http:
        moved = await http.put(
            "/marketplace/partners/shop", json={"name": "shop", "price_list_code": "BASE"}
        )
        assert moved.status_code == 200, moved.text
    seen.append(await etag())
    assert len(set(seen)) == len(seen), seen


async def test_a_price_change_in_pricing_reaches_the_feed_over_the_broker(start_app):
    pricing = await start_app("pricing", run_workers=True)
    await pricing_world.seed_skus(pricing, [("A-1", None, None)])
    await pricing_world.add_list(pricing, "BASE", base=True)
    await pricing_world.add_list(pricing, "SHOP", parent="BASE")
    catalog = await start_app("catalog", upstreams={"pricing": pricing}, run_workers=True)
    assert (await feed(catalog, as_csv([product("A-1")])))["state"] == "succeeded"
    async with client(catalog, ADMIN) as http:
        put = await http.put(
            "/marketplace/partners/shop", json={"name": "Shop", "price_list_code": "SHOP"}
        )
        assert put.status_code == 201, put.text
    async with client(catalog, SHOP) as http:
        before = await http.get("/feeds/marketplace/shop")
    assert before.text == ""  # nothing priced yet
    job = await pricing_world.feed(pricing, PRICES + "BASE,,A-1,1,1000,EUR,,\n")
    assert job["state"] == "succeeded", job
    async with asyncio.timeout(30), client(catalog, SHOP) as http:
        while True:  # pricing's relay publishes price.changed; catalog's consumer counts it
            after = await http.get(
                "/feeds/marketplace/shop", headers={"If-None-Match": before.headers["etag"]}
            )
            if after.status_code == 200:
                break
            assert after.status_code == 304
            await asyncio.sleep(0.1)
    assert [(r["sku"], r["price_minor"]) for r in lines(after.text)] == [("A-1", 1000)]


async def test_a_big_feed_streams_in_chunks_in_sku_order(start_app):
    pricing = await start_app("pricing")
    skus = [f"S-{i:04d}" for i in range(1, 26)]
    await pricing_world.seed_skus(pricing, [(s, None, None) for s in skus])
    await pricing_world.add_list(pricing, "SHOP")
    body = PRICES + "".join(f"SHOP,,{s},{q},{100 + q},EUR,,\n" for s in skus for q in (1, 5))
    assert (await pricing_world.feed(pricing, body))["state"] == "succeeded"
    catalog = await start_app("catalog", upstreams={"pricing": pricing}, marketplace_chunk_skus=4)
    rows = [product(s) for s in reversed(skus)]
    assert (await feed(catalog, as_csv(rows)))["state"] == "succeeded"
    async with client(catalog, ADMIN) as http:
        await http.put("/marketplace/partners/shop", json={"name": "S", "price_list_code": "SHOP"})
    # Straight over ASGI: the test client would gather the body before handing it over.
    sent: list[dict] = []
    requested, finished = asyncio.Event(), asyncio.Event()

    async def receive() -> dict:
        if not requested.is_set():
            requested.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            finished.set()

    await catalog(
        {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/feeds/marketplace/shop",
            "raw_path": b"/feeds/marketplace/shop",
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in SHOP.items()],
            "server": ("test", 80),
            "client": ("127.0.0.1", 1),
        },
        receive,
        send,
    )
    assert sent[0]["status"] == 200
    chunks = [m["body"] for m in sent[1:] if m.get("body")]
    assert len(chunks) == 7  # 25 SKUs, 4 a chunk, every chunk sent as it is read
    offers = lines(b"".join(chunks).decode())
    assert [o["sku"] for o in offers] == skus
    assert {len(o["tiers"]) for o in offers} == {2}


async def test_a_partner_reads_only_its_own_feed(stack):
    _, catalog = stack
    async with client(catalog, MALL) as http:
        other = await http.get("/feeds/marketplace/shop")
    assert other.status_code == 403
    assert other.headers["content-type"] == "application/problem+json"
    assert "its own partner's feed" in other.json()["detail"]
    for headers in (
        ERP,
        as_role(Role.BUYER, company_id=uuid.uuid4()),
        as_role(Role.SALES_MANAGER),
        as_role(Role.PARTNER, kind="api_key", subject="k"),  # a partner key bound to none
    ):
        async with client(catalog, headers) as http:
            assert (await http.get("/feeds/marketplace/shop")).status_code == 403
    async with client(catalog, ADMIN) as http:
        assert (await http.get("/feeds/marketplace/shop")).status_code == 200
        assert (await http.get("/feeds/marketplace/nobody")).status_code == 404
    async with client(catalog, SHOP) as http:
        xml = await http.get("/feeds/marketplace/shop", headers={"Accept": "application/xml"})
    assert xml.status_code == 406
    assert xml.headers["content-type"] == "application/problem+json"


async def test_admins_manage_partners_and_their_price_lists(stack):
    _, catalog = stack
    async with client(catalog, ADMIN) as http:
        unknown_list = await http.put(
            "/marketplace/partners/shop", json={"name": "Shop", "price_list_code": "NOPE"}
        )
        bad_code = await http.put(
            "/marketplace/partners/no%20spaces", json={"name": "X", "price_list_code": "SHOP"}
        )
        same = await http.put(
            "/marketplace/partners/shop", json={"name": "Shop", "price_list_code": "SHOP"}
        )
    assert unknown_list.status_code == 422
    assert unknown_list.json()["errors"][0]["field"] == "price_list_code"
    assert bad_code.status_code == 422
    assert same.status_code == 200
    assert same.json()["feed_url"] == "/feeds/marketplace/shop"
    async with client(catalog, as_role(Role.SALES_MANAGER)) as http:
        listed = await http.get("/marketplace/partners")
        one = await http.get("/marketplace/partners/mall")
        refused = await http.put(
            "/marketplace/partners/shop", json={"name": "S", "price_list_code": "BASE"}
        )
    assert [p["code"] for p in listed.json()["items"]] == ["mall", "shop"]
    assert one.json()["price_list_code"] == "MALL"
    assert refused.status_code == 403
    for headers in (SHOP, ERP, as_role(Role.BUYER, company_id=uuid.uuid4())):
        async with client(catalog, headers) as http:
            assert (await http.get("/marketplace/partners")).status_code == 403
            assert (await http.delete("/marketplace/partners/shop")).status_code == 403
    async with client(catalog, ADMIN) as http:
        assert (await http.delete("/marketplace/partners/mall")).status_code == 204
        assert (await http.delete("/marketplace/partners/mall")).status_code == 404
    async with client(catalog, MALL) as http:
        assert (await http.get("/feeds/marketplace/mall")).status_code == 404
    async with catalog.state.sessionmaker() as session:
        left = await session.scalar(text("SELECT count(*) FROM marketplace_partners"))
    assert left == 1
