"""The ERP catalog feed and product reads, against real PostgreSQL and the real broker."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.catalog.world import BUYER, ERP, HEADER, STOCK, assert_rejected, feed, rejection_report


async def scalar(app, statement: str):
    async with app.state.sessionmaker() as session:
        return await session.scalar(text(statement))


async def test_feed_creates_products_that_buyers_find(catalog):
    job = await feed(
        catalog,
        HEADER
        + "KN-100,Knauf board 12.5 mm,Knauf,boards,m2,10,5,,\n"
        + "CE-200,Ceresit CM 11 tile glue,Ceresit,glue,bag,,,,\n",
    )
    assert (job["state"], job["result"]["created"], job["result"]["events"]) == ("succeeded", 2, 2)
    assert (
        await scalar(catalog, "SELECT count(*) FROM outbox WHERE type LIKE '%product.upserted.v1'")
        == 2
    )
    async with client(catalog, BUYER) as http:
        found = (await http.get("/products", params={"q": "tile glue"})).json()
        one = (await http.get("/products/KN-100")).json()
        by_code = (await http.get("/products", params={"q": "KN-1"})).json()
        missing = await http.get("/products/NOPE")
    assert [p["sku"] for p in found["items"]] == ["CE-200"]
    assert [p["sku"] for p in by_code["items"]] == ["KN-100"]
    assert (one["unit"], one["min_order_qty"], one["order_multiple"]) == ("m2", "10.000", "5.000")
    assert missing.status_code == 404


async def test_bad_rows_are_named_and_nothing_changes(catalog):
    job = await feed(
        catalog,
        HEADER
        + "OK-1,Fine,,,,,,,\n"
        + "NEW-2,,,,,,,,\n"
        + "bad sku!,Name,,,,,,,\n"
        + "Q-4,Name,,,,0,,,\n"
        + "R-5,Name,,,,,,,GHOST\n",
    )
    await assert_rejected(
        catalog,
        job,
        "2,name,is required for a new product",
        "3,sku,does not match",
        "4,min_order_qty,must be above 0",
        "5,replacement_sku,is not a known SKU",
    )
    assert await scalar(catalog, "SELECT count(*) FROM products") == 0


async def test_an_empty_cell_keeps_the_value_and_full_discontinues_the_rest(catalog):
    await feed(catalog, HEADER + "A-1,Alpha,Knauf,boards,,,,,\nB-2,Beta,,,,,,,\n")
    job = await feed(catalog, HEADER + "A-1,,,glue,,,,,\n", scope="full")
    assert (job["result"]["updated"], job["result"]["discontinued"]) == (1, 1)
    async with client(catalog, BUYER) as http:
        alpha = (await http.get("/products/A-1")).json()
        active = (await http.get("/products")).json()
        gone = (await http.get("/products", params={"status": "discontinued"})).json()
    assert (alpha["name"], alpha["brand"], alpha["category"]) == ("Alpha", "Knauf", "glue")
    assert [p["sku"] for p in active["items"]] == ["A-1"]
    assert [p["sku"] for p in gone["items"]] == ["B-2"]


async def test_roles(catalog):
    async with client(catalog, BUYER) as http:
        assert (
            await http.post("/feeds/catalog", content=HEADER, headers={"Content-Type": "text/csv"})
        ).status_code == 403
    for headers in (ERP, as_role(Role.PARTNER, kind="api_key", subject="market")):
        async with client(catalog, headers) as http:
            assert (await http.get("/products")).status_code == 403
            assert (await http.get("/products/A-1")).status_code == 403
            assert (await http.get("/products/A-1/stock")).status_code == 403


async def test_pricing_learns_the_products_over_the_broker(start_app):
    catalog = await start_app("catalog", run_workers=True)
    pricing = await start_app("pricing", run_workers=True)
    async with client(catalog, {**ERP, "Content-Type": "text/csv"}) as http:
        posted = await http.post("/feeds/catalog", content=HEADER + "P-1,Panel,Knauf,boards,,,,,\n")
    assert posted.status_code == 202
    for _ in range(200):
        async with pricing.state.sessionmaker() as session:
            row = (
                await session.execute(
                    text("SELECT brand, category, sellable FROM skus WHERE sku = 'P-1'")
                )
            ).first()
        if row is not None:
            break
        await asyncio.sleep(0.05)
    assert tuple(row) == ("Knauf", "boards", True)


async def stock(app, sku: str) -> dict[str, tuple[str, str]]:
    async with client(app, BUYER) as http:
        answer = await http.get(f"/products/{sku}/stock")
    assert answer.status_code == 200, answer.text
    return {s["warehouse"]: (s["on_hand"], s["available"]) for s in answer.json()}


async def test_stock_feed_sets_levels_skips_stale_rows_and_full_zeroes_the_rest(catalog):
    await feed(catalog, HEADER + "A-1,Alpha,,,,,,,\nB-2,Beta,,,,,,,\n")
    job = await feed(
        catalog,
        STOCK
        + "A-1,MSK,120.5,2026-11-23T08:00:00Z\n"
        + "B-2,MSK,7,2026-11-23T08:00:00Z\n"
        + "A-1,SPB,3,2026-11-23T08:00:00Z\n"
        + "GHOST,MSK,1,\n",
        "stock",
        mode="skip_bad_rows",
    )
    assert (job["state"], job["rows_rejected"], job["result"]["events"]) == ("succeeded", 1, 3)
    assert await stock(catalog, "A-1") == {"MSK": ("120.500", "120.500"), "SPB": ("3.000", "3.000")}
    stale = await feed(catalog, STOCK + "A-1,MSK,1,2026-11-23T07:00:00Z\n", "stock")
    assert stale["result"]["changed"] == 0
    assert (await stock(catalog, "A-1"))["MSK"][0] == "120.500"
    full = await feed(catalog, STOCK + "A-1,MSK,100,2026-11-23T09:00:00Z\n", "stock", scope="full")
    assert (full["result"]["changed"], full["result"]["zeroed"]) == (1, 1)
    assert await stock(catalog, "B-2") == {"MSK": ("0.000", "0.000")}
    assert (await stock(catalog, "A-1"))["SPB"][0] == "3.000"  # another warehouse: untouched
    assert (
        await scalar(catalog, "SELECT count(*) FROM outbox WHERE type LIKE '%stock.changed.v1'")
        == 5
    )


async def test_a_cost_needs_its_currency(catalog):
    job = await feed(
        catalog,
        "sku,name,cost_minor,cost_currency\n"
        "C-1,With cost,700,EUR\n"
        "C-2,No currency,700,\n"
        "C-3,Bad currency,700,euro\n"
        "C-4,Negative,-1,EUR\n",
    )
    report = await rejection_report(catalog, job, rows=3)
    for line in ("2,cost_currency,cost_minor and cost_currency go together", "3,cost_currency,"):
        assert line in report, (line, report)
    assert "4,cost_minor," in report
    good = await feed(catalog, "sku,name,cost_minor,cost_currency\nC-1,With cost,700,EUR\n")
    assert good["state"] == "succeeded"
    assert await scalar(catalog, "SELECT cost_minor FROM products WHERE sku = 'C-1'") == 700
