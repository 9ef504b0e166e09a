"""Carts priced by pricing, quick order, requisition lists; a buyer sees only its own."""

from __future__ import annotations

from services.catalog.api.feeds import SPECS as CATALOG_FEEDS
from services.pricing.api.feeds import SPECS as PRICE_FEEDS
from shared.auth import Role
from shared.contracts.catalog import ProductUpsertedV1
from shared.testing.fixtures import as_role, client
from tests.orders.world import deliver_events, new_cart, post_feed
from tests.pricing.world import drop_cached_prices


async def test_a_cart_is_priced_in_one_call_with_savings_and_the_next_tier(shop):
    cart_id = await new_cart(shop, {"CE-200": "10", "KN-100": "20"})
    async with shop.as_buyer() as http:
        cart = (await http.get(f"/carts/{cart_id}")).json()
    lines = {x["sku"]: x for x in cart["lines"]}
    assert cart["currency"] == "EUR"
    assert lines["CE-200"]["unit_price_minor"] == 1250
    assert lines["CE-200"]["line_total_minor"] == 12500
    assert lines["CE-200"]["next_tier"] == {"min_qty": "50", "unit_price_minor": 1100}
    assert lines["KN-100"]["name"] == "Knauf board 12.5 mm"
    assert cart["total_minor"] == 12500 + 20 * 480
    assert [x["sku"] for x in cart["lines"]] == ["CE-200", "KN-100"]  # as they were added


async def test_a_contract_clients_line_shows_the_base_lists_price_beside_its_own(shop):
    """Its contract price is no discount off itself: the base list is what to compare with."""
    await post_feed(
        shop.pricing,
        PRICE_FEEDS,
        "prices",
        "list,client,sku,min_qty,price_minor,currency,valid_from,valid_to\n"
        ",C1,KN-100,1,400,EUR,,\n",
    )
    drop_cached_prices(shop.pricing)
    cart_id = await new_cart(shop, {"CE-200": "50", "KN-100": "20"})
    async with shop.as_buyer() as http:
        cart = (await http.get(f"/carts/{cart_id}")).json()
    lines = {x["sku"]: x for x in cart["lines"]}
    assert (lines["KN-100"]["unit_price_minor"], lines["KN-100"]["base_price_minor"]) == (400, 480)
    assert lines["KN-100"]["rule"] == "contract"
    assert (lines["CE-200"]["unit_price_minor"], lines["CE-200"]["base_price_minor"]) == (
        1100,
        1100,  # the base list's own tier for 50
    )


async def test_lines_that_break_ordering_rules_change_nothing_and_are_named_by_row(shop):
    cart_id = await new_cart(shop, {"CE-200": "1"})
    async with shop.as_buyer() as http:
        bad = await http.put(
            f"/carts/{cart_id}/lines",
            json={
                "lines": [{"sku": "CE-200", "quantity": "5"}, {"sku": "KN-100", "quantity": "7"}]
            },
        )
        cart = (await http.get(f"/carts/{cart_id}")).json()
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"] == [
        {
            "field": "lines.quantity",
            "message": "KN-100: below the minimum order quantity 10",
            "row": 2,
        }
    ]
    assert [(x["sku"], x["quantity"]) for x in cart["lines"]] == [("CE-200", "1.000")]


async def test_quick_order_adds_the_good_lines_and_reports_each_bad_one(shop):
    cart_id = await new_cart(shop)
    pasted = "CE-200 3\nNOPE-1 2\nKN-100\t15\n\nKN-100;12\nOLD-1 1\nCE-200 2\nCE-200 x\n"
    async with shop.as_buyer(**{"Content-Type": "text/plain"}) as http:
        result = (await http.post(f"/carts/{cart_id}/quick-order", content=pasted)).json()
    async with shop.as_buyer() as http:
        cart = (await http.get(f"/carts/{cart_id}")).json()
    assert result["added"] == 2
    assert [(p["row"], p["sku"], p["reason"]) for p in result["problems"]] == [
        (2, "NOPE-1", "unknown SKU"),
        (5, "KN-100", "must be a multiple of 5"),
        (6, "OLD-1", "discontinued; order CE-200 instead"),
        (8, "CE-200", "is not a number"),
    ]
    assert {x["sku"]: x["quantity"] for x in cart["lines"]} == {
        "CE-200": "5.000",
        "KN-100": "15.000",
    }


async def test_quick_order_from_a_csv_file(shop):
    cart_id = await new_cart(shop)
    csv = b"SKU,Quantity\nCE-200,4\nKN-100,3\n"
    async with shop.as_buyer() as http:
        result = (
            await http.post(
                f"/carts/{cart_id}/quick-order", files={"file": ("order.csv", csv, "text/csv")}
            )
        ).json()
    assert result.get("added") == 1, result
    assert result["problems"] == [
        {
            "row": 2,  # the second record: the header row is not one
            "sku": "KN-100",
            "field": "quantity",
            "reason": "below the minimum order quantity 10",
        }
    ]


async def test_requisition_list_fills_a_cart(shop):
    cart_id = await new_cart(shop, name="Project A")
    async with shop.as_buyer() as http:
        made = (await http.post("/requisition-lists", json={"name": "Weekly"})).json()
        added = await http.post(
            f"/requisition-lists/{made['id']}/lines",
            content="CE-200 2\nKN-100 10\n",
            headers={"Content-Type": "text/plain"},
        )
        assert added.json()["added"] == 2
        copied = (
            await http.post(f"/requisition-lists/{made['id']}/to-cart", json={"cart_id": cart_id})
        ).json()
        again = (
            await http.post(f"/requisition-lists/{made['id']}/to-cart", json={"cart_id": cart_id})
        ).json()
        cart = (await http.get(f"/carts/{cart_id}")).json()
    assert copied["added"] == again["added"] == 2
    assert {x["sku"]: x["quantity"] for x in cart["lines"]} == {
        "CE-200": "4.000",
        "KN-100": "20.000",
    }


async def test_carts_and_lists_of_other_buyers_and_companies_are_invisible(shop):
    cart_id = await new_cart(shop, {"CE-200": "1"})
    async with shop.as_buyer() as http:
        listed = (await http.post("/requisition-lists", json={"name": "Mine"})).json()
    colleague = as_role(Role.BUYER, company_id=shop.company_id)
    async with client(shop.orders, colleague) as http:
        assert (await http.get(f"/carts/{cart_id}")).status_code == 404
        assert (await http.get(f"/requisition-lists/{listed['id']}")).status_code == 200
    async with shop.as_stranger() as http:
        assert (await http.get(f"/carts/{cart_id}")).status_code == 404
        assert (await http.get(f"/requisition-lists/{listed['id']}")).status_code == 404
        assert (await http.get("/carts")).json() == []
    for wrong in (Role.INTEGRATOR, Role.PARTNER):
        async with client(shop.orders, as_role(wrong)) as http:
            assert (await http.get("/carts")).status_code == 403
            assert (await http.post("/carts", json={"name": "x"})).status_code == 403


async def test_lines_in_packs_are_kept_in_the_base_unit(shop):
    tiles = (
        "sku,name,unit,min_order_qty,order_multiple,units,unit_precision\n"
        "TILE-1,Floor tile 30x30,pcs,12,12,pack=12;pallet=480,0\n"
    )
    await post_feed(shop.catalog, CATALOG_FEEDS, "catalog", tiles)
    await deliver_events(shop.catalog, ProductUpsertedV1, shop.pricing, shop.orders)
    cart_id = await new_cart(shop)
    async with shop.as_buyer() as http:
        bad = await http.put(
            f"/carts/{cart_id}/lines",
            json={
                "lines": [
                    {"sku": "TILE-1", "quantity": "2", "unit": "pack"},
                    {"sku": "TILE-1", "quantity": "1", "unit": "crate"},
                    {"sku": "TILE-1", "quantity": "0.5", "unit": "pack"},
                ]
            },
        )
        assert bad.status_code == 422
        assert [(e["row"], e["field"]) for e in bad.json()["errors"]] == [
            (2, "lines.unit"),
            (3, "lines.quantity"),
        ]
        good = await http.put(
            f"/carts/{cart_id}/lines",
            json={"lines": [{"sku": "TILE-1", "quantity": "2", "unit": "pack"}]},
        )
        assert good.status_code == 200, good.text
        quick = await http.post(
            f"/carts/{cart_id}/quick-order",
            content="TILE-1 1 pallet\nTILE-1 1 crate\nCE-200 2",
            headers={"Content-Type": "text/plain"},
        )
        assert quick.json()["added"] == 2
        assert [(p["row"], p["field"]) for p in quick.json()["problems"]] == [(2, "unit")]
        lines = {
            x["sku"]: x["quantity"] for x in (await http.get(f"/carts/{cart_id}")).json()["lines"]
        }
    assert lines == {"TILE-1": "504.000", "CE-200": "2.000"}
