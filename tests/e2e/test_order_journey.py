"""The whole journey through the gateway, services in process with their relays and consumers
on the real broker: ERP feeds the world, a buyer finds, prices, quick-orders and checks out,
ERP confirms, ships and delivers, and the order's events reach the broker in order."""

from __future__ import annotations

import uuid

import orjson
from sqlalchemy import text

from shared.contracts.orders import ORDER_TOPIC
from shared.testing.fixtures import client, running
from shared.testing.kafka import read_topic
from tests.accounts.factories import add_user
from tests.stack import (
    client_and_products,
    erp_feeds,
    eventually,
    seller_and_erp,
    start_order_stack,
)


async def test_from_erp_feeds_to_a_delivered_order(start_app, kafka_bootstrap):
    apps, gateway = await start_order_stack(start_app)
    accounts, catalog = apps["accounts"], apps["catalog"]
    async with running(gateway), client(gateway) as http:
        admin, erp = await seller_and_erp(http, accounts, "boss@example.com")

        # ERP: clients, catalog, stock, prices.
        company_id = await client_and_products(
            http,
            admin,
            erp,
            "CE-200,Ceresit CM 11 tile glue,Ceresit,glue,bag,1,1\n"
            "KN-100,Knauf board,Knauf,boards,pcs,10,5\n",
            "CE-200,MAIN,40\nKN-100,MAIN,400\n",
            ["CE-200", "KN-100"],
        )
        await erp_feeds(
            http,
            erp,
            "/api/v1/pricing/feeds/prices",
            "list,client,sku,min_qty,price_minor,currency\nBASE,,KN-100,1,480,EUR\n"
            "BASE,,CE-200,1,890,EUR\n,C-1,CE-200,1,790,EUR\n",
        )

        # The buyer logs in for its company, finds the glue, sees its price and the stock.
        buyer_id = await add_user(
            accounts, "buyer@alpha.example", companies={uuid.UUID(company_id): "buyer"}
        )
        assert buyer_id
        login = await http.post(
            "/api/v1/accounts/auth/login",
            json={"email": "buyer@alpha.example", "password": "secret-password"},
        )
        buyer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        found = (
            await http.get("/api/v1/catalog/products", headers=buyer, params={"q": "tile glue"})
        ).json()
        assert [p["sku"] for p in found["items"]] == ["CE-200"]
        stock = (await http.get("/api/v1/catalog/products/CE-200/stock", headers=buyer)).json()
        assert stock[0]["available"] == "40.000"

        async def orders_knows_products():
            cart = await http.post(
                "/api/v1/orders/carts",
                headers=buyer,
                json={"name": f"probe-{uuid.uuid4().hex[:6]}"},
            )
            probe = await http.put(
                f"/api/v1/orders/carts/{cart.json()['id']}/lines",
                headers=buyer,
                json={"lines": [{"sku": "KN-100", "quantity": "10"}]},
            )
            await http.delete(f"/api/v1/orders/carts/{cart.json()['id']}", headers=buyer)
            return probe.status_code == 200

        await eventually(orders_knows_products)

        # Quick order from a CSV file, then checkout.
        cart = (
            await http.post("/api/v1/orders/carts", headers=buyer, json={"name": "Site 7"})
        ).json()
        quick = await http.post(
            f"/api/v1/orders/carts/{cart['id']}/quick-order",
            headers=buyer,
            files={
                "file": ("order.csv", b"sku,quantity\nCE-200,12\nKN-100,20\nXX-1,1\n", "text/csv")
            },
        )
        assert quick.json()["added"] == 2
        assert [p["sku"] for p in quick.json()["problems"]] == ["XX-1"]
        priced = (await http.get(f"/api/v1/orders/carts/{cart['id']}", headers=buyer)).json()
        assert {x["sku"]: x["unit_price_minor"] for x in priced["lines"]} == {
            "CE-200": 790,
            "KN-100": 480,
        }
        placed = await http.post(
            f"/api/v1/orders/carts/{cart['id']}/checkout",
            headers={**buyer, "Idempotency-Key": "checkout-1"},
            json={},
        )
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert order["total_minor"] == 12 * 790 + 20 * 480
        stock = (await http.get("/api/v1/catalog/products/CE-200/stock", headers=buyer)).json()
        assert (stock[0]["reserved"], stock[0]["available"]) == ("12.000", "28.000")

        # ERP takes the order and moves it to delivery.
        to_fulfil = (await http.get("/api/v1/orders/erp/orders", headers=erp)).json()["items"]
        assert [o["number"] for o in to_fulfil] == [order["number"]]
        updates = [
            {
                "order": order["number"],
                "status": "confirmed",
                "at": "2026-11-23T10:00:00Z",
                "promised_to": "2026-11-26",
            },
            {"order": order["number"], "status": "shipped", "at": "2026-11-24T10:00:00Z"},
            {"order": order["number"], "status": "delivered", "at": "2026-11-25T10:00:00Z"},
        ]
        moved = await http.post(
            "/api/v1/orders/erp/order-updates", headers=erp, json={"updates": updates}
        )
        assert moved.json()["applied"] == 3, moved.text
        final = (await http.get(f"/api/v1/orders/orders/{order['id']}", headers=buyer)).json()
        assert final["status"] == "delivered"

    # The order's events on the broker, in order; catalog let go of the stock once shipped.
    async def journey():
        records = await read_topic(kafka_bootstrap, ORDER_TOPIC, expect=1, within=5)
        mine = [orjson.loads(r.value) for r in records]
        types = [e["type"].split(".")[-2] for e in mine if e["data"].get("order_id") == order["id"]]
        return types if len(types) == 4 else None

    assert await eventually(journey) == ["placed", "confirmed", "shipped", "delivered"]

    async def released():
        async with catalog.state.sessionmaker() as session:
            reserved = await session.scalar(
                text("SELECT reserved FROM stock_levels WHERE sku = 'CE-200'")
            )
        return reserved == 0

    assert await eventually(released)
