"""Several warehouses: what search shows available is what checkout holds, split over the
warehouses (the client's preferred one first); each order line says where its goods are, and
cancelling or shipping gives back or takes from the right warehouses."""

from __future__ import annotations

from decimal import Decimal as D

from services.catalog import events as catalog_events
from services.catalog.api.feeds import SPECS as CATALOG_FEEDS
from services.orders.domain.stock import sources_by_line
from shared.contracts.accounts import CompanyUpsertedV1
from shared.contracts.orders import OrderCancelledV1, OrderPlacedV1, OrderShippedV1
from shared.testing.fixtures import client
from tests.orders.test_checkout import checkout
from tests.orders.test_lifecycle import erp_updates, outbox_payloads
from tests.orders.world import ADMIN, deliver_events, new_cart, post_feed

TWO_WAREHOUSES = "sku,warehouse,on_hand\nCE-200,MAIN,40\nCE-200,SOUTH,30\n"


def test_a_sku_on_two_lines_shares_its_warehouses_out_first_line_first():
    held = [("A", "MAIN", D("40.000")), ("A", "SOUTH", D("20.000")), ("B", "MAIN", D(1))]
    assert sources_by_line([("A", D(50)), ("B", D(1)), ("A", D(10))], held) == [
        [{"warehouse": "MAIN", "quantity": "40.000"}, {"warehouse": "SOUTH", "quantity": "10.000"}],
        [{"warehouse": "MAIN", "quantity": "1.000"}],
        [{"warehouse": "SOUTH", "quantity": "10.000"}],
    ]


async def available(shop) -> str:
    async with client(shop.catalog, shop.buyer) as http:
        page = (await http.get("/products", params={"include": "stock", "q": "CE-200"})).json()
    return next(p["available"] for p in page["items"] if p["sku"] == "CE-200")


async def levels(shop) -> dict[str, tuple[str, str]]:
    async with client(shop.catalog, ADMIN) as http:
        rows = (await http.get("/products/CE-200/stock")).json()
    return {r["warehouse"]: (r["on_hand"], r["reserved"]) for r in rows}


async def to_catalog(shop, contract) -> None:
    """The order's last `contract` event, handled by catalog as the broker would bring it."""
    event = contract.model_validate(
        (await outbox_payloads(shop.orders, contract.event_type.split(".")[1]))[-1]
    )
    async with shop.catalog.state.sessionmaker() as session, session.begin():
        await catalog_events.CONSUMERS["catalog"][contract](event, session)


async def test_sixty_of_forty_plus_thirty_are_held_in_both_and_given_back_to_both(shop):
    await post_feed(shop.catalog, CATALOG_FEEDS, "stock", TWO_WAREHOUSES)
    assert await available(shop) == "70.000"
    placed = await checkout(shop, await new_cart(shop, {"CE-200": "60"}))
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["lines"][0]["sources"] == [
        {"warehouse": "MAIN", "quantity": "40.000"},  # the most available first
        {"warehouse": "SOUTH", "quantity": "20.000"},
    ]
    async with shop.as_buyer() as http:
        assert (await http.get(f"/orders/{order['id']}")).json() == order
    [event] = await outbox_payloads(shop.orders, "placed")
    assert OrderPlacedV1.model_validate(event).lines[0].sources[1].warehouse == "SOUTH"
    assert await available(shop) == "10.000"
    assert await levels(shop) == {"MAIN": ("40.000", "40.000"), "SOUTH": ("30.000", "20.000")}
    more = await checkout(shop, await new_cart(shop, {"CE-200": "11"}, name="More"))
    assert more.status_code == 409
    assert more.json()["errors"][0]["message"] == "only 10.000 of CE-200 available"
    async with shop.as_buyer() as http:
        cancelled = await http.post(f"/orders/{order['id']}/cancel", json={"reason": "no"})
    assert cancelled.status_code == 200, cancelled.text
    await to_catalog(shop, OrderCancelledV1)
    assert await levels(shop) == {"MAIN": ("40.000", "0.000"), "SOUTH": ("30.000", "0.000")}
    assert await available(shop) == "70.000"


async def test_the_clients_preferred_warehouse_goes_first_and_shipping_takes_from_each(shop):
    await post_feed(shop.catalog, CATALOG_FEEDS, "stock", TWO_WAREHOUSES)
    async with client(shop.accounts, ADMIN) as http:
        url = f"/companies/{shop.company_id}"
        etag = (await http.get(url)).headers["etag"]
        patched = await http.patch(
            url, json={"preferred_warehouse": "SOUTH"}, headers={"If-Match": etag}
        )
    assert patched.json()["preferred_warehouse"] == "SOUTH"
    await deliver_events(shop.accounts, CompanyUpsertedV1, shop.orders)
    placed = await checkout(shop, await new_cart(shop, {"CE-200": "60", "KN-100": "10"}))
    assert placed.status_code == 201, placed.text
    assert [line["sources"] for line in placed.json()["lines"]] == [
        [{"warehouse": "MAIN", "quantity": "30.000"}, {"warehouse": "SOUTH", "quantity": "30.000"}],
        [{"warehouse": "MAIN", "quantity": "10.000"}],  # SOUTH has none of it
    ]
    number = placed.json()["number"]
    shipped = await erp_updates(
        shop, [{"order": number, "status": "shipped", "at": "2026-11-24T08:00:00Z"}]
    )
    assert shipped.json()["applied"] == 1
    await to_catalog(shop, OrderShippedV1)
    assert await levels(shop) == {"MAIN": ("10.000", "0.000"), "SOUTH": ("0.000", "0.000")}
