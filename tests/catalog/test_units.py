"""Units from the catalog feed, on product reads and in the batch convert endpoint."""

from __future__ import annotations

from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.catalog.world import BUYER, ERP, as_csv, assert_rejected, feed

ORDERS = as_role(Role.SYSTEM, kind="system", subject="orders")


def product(sku, **more) -> dict:
    row = {
        "sku": sku,
        "name": sku,
        "unit": None,
        "min_order_qty": None,
        "order_multiple": None,
        "units": None,
        "unit_precision": None,
        "status": None,
        "replacement_sku": None,
    }
    return row | more


async def seeded(app) -> None:
    job = await feed(
        app,
        as_csv(
            [
                product(
                    "TILE-1",
                    unit="pcs",
                    min_order_qty="24",
                    order_multiple="12",
                    units="pack=12;pallet=480",
                    unit_precision="0",
                ),
                product("CABLE-1", unit="m", units="coil=50.5", unit_precision="1"),
                product("TILE-2", unit="pcs"),
            ]
        ),
    )
    assert job["state"] == "succeeded", job
    job = await feed(
        app, as_csv([product("TILE-0", status="discontinued", replacement_sku="TILE-1")])
    )
    assert job["state"] == "succeeded", job


async def test_units_are_on_product_reads(catalog):
    await seeded(catalog)
    async with client(catalog, BUYER) as http:
        tile = (await http.get("/products/TILE-1")).json()
    assert tile["units"] == [
        {"unit": "pack", "factor": "12"},
        {"unit": "pallet", "factor": "480"},
    ]
    assert (tile["unit"], tile["unit_precision"]) == ("pcs", 0)


async def test_a_batch_converts_and_reports_every_line(catalog):
    await seeded(catalog)
    lines = [
        {"sku": "TILE-1", "unit": "pack", "quantity": "3"},
        {"sku": "TILE-1", "unit": "pallet", "quantity": "1"},
        {"sku": "CABLE-1", "unit": "coil", "quantity": "2"},
        {"sku": "GHOST", "quantity": "1"},
        {"sku": "TILE-1", "unit": "box", "quantity": "1"},
        {"sku": "TILE-1", "quantity": "12"},
        {"sku": "TILE-1", "quantity": "30"},
        {"sku": "CABLE-1", "quantity": "1.25"},
        {"sku": "TILE-0", "quantity": "1"},
    ]
    async with client(catalog, ORDERS) as http:
        answer = await http.post("/products/quantities:convert", json={"lines": lines})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ok"] is False
    verdicts = [
        (x["row"], x["base_quantity"], x["problem"], x["suggested_base_quantity"])
        for x in body["lines"]
    ]
    assert verdicts == [
        (1, "36", None, None),
        (2, "480", None, None),
        (3, "101.0", None, None),
        (4, None, "unknown_sku", None),
        (5, None, "unknown_unit", None),
        (6, None, "below_minimum", "24"),
        (7, None, "not_a_multiple", "36"),
        (8, None, "too_precise", None),
        (9, None, "discontinued", None),
    ]
    assert body["lines"][8]["replacement_sku"] == "TILE-1"
    assert "buy TILE-1 instead" in body["lines"][8]["message"]


async def test_bad_batches_are_problems_naming_the_line(catalog):
    async with client(catalog, ORDERS) as http:
        answer = await http.post(
            "/products/quantities:convert",
            json={"lines": [{"sku": "A", "quantity": "1"}, {"sku": "B", "quantity": "-2"}]},
        )
    assert answer.status_code == 422
    error = answer.json()["errors"][0]
    assert (error["field"], error["row"]) == ("lines[1].quantity", 2)  # the second line


async def test_bad_units_in_the_feed_are_rejected_rows(catalog):
    job = await feed(
        catalog,
        as_csv(
            [
                product("A-1", units="pack:12"),
                product("A-2", units="pack=0"),
                product("A-3", units="pcs=2"),
                product("A-4", units="pack=2;pack=3"),
                product("A-5", unit_precision="4"),
            ]
        ),
    )
    await assert_rejected(
        catalog,
        job,
        "1,units,must list unit=factor pairs",
        "2,units,pack must hold more than 0 pcs",
        "3,units,pcs is the base unit",
        "4,units,pack is named twice",
        "5,unit_precision,must be 0 to 3",
    )


async def test_units_stay_consistent_across_feeds(catalog):
    await seeded(catalog)
    job = await feed(
        catalog,
        as_csv(
            [
                product("TILE-1", unit="pack"),  # pack is already one of its units
                product("CABLE-1", order_multiple="0.25"),  # metres take 1 decimal
                product("TILE-2", units="box=10", unit_precision="0", min_order_qty="1.5"),
            ]
        ),
    )
    await assert_rejected(
        catalog,
        job,
        "1,unit,pack is the base unit",
        "2,order_multiple,has more decimals than unit_precision allows",
        "3,min_order_qty,has more decimals than unit_precision allows",
    )


async def test_a_new_units_list_replaces_the_old(catalog):
    await seeded(catalog)
    job = await feed(catalog, as_csv([product("TILE-1", units="box=6")]))
    assert job["state"] == "succeeded", job
    async with client(catalog, BUYER) as http:
        tile = (await http.get("/products/TILE-1")).json()
        converted = await http.post(
            "/products/quantities:convert",
            json={"lines": [{"sku": "TILE-1", "unit": "pack", "quantity": "2"}]},
        )
    assert tile["units"] == [{"unit": "box", "factor": "6"}]
    assert converted.json()["lines"][0]["problem"] == "unknown_unit"
    assert "(pcs, box)" in converted.json()["lines"][0]["message"]


async def test_roles(catalog):
    for headers in (ERP, as_role(Role.PARTNER, kind="api_key", subject="m")):
        async with client(catalog, headers) as http:
            answer = await http.post(
                "/products/quantities:convert", json={"lines": [{"sku": "A", "quantity": "1"}]}
            )
            assert answer.status_code == 403
