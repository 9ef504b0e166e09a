"""After checkout: ERP confirms, ships, delivers (OTIF); cancel; history, export; offline orders."""

from __future__ import annotations

import csv
import io

from services.catalog import events as catalog_events
from shared.contracts.orders import OrderShippedV1
from shared.testing.fixtures import client
from tests.orders.test_checkout import checkout, count
from tests.orders.world import ERP, new_cart, new_company, outbox_types, stock_of


async def place(shop, lines=None, name="Main"):
    placed = await checkout(shop, await new_cart(shop, lines or {"CE-200": "4"}, name=name))
    assert placed.status_code == 201, placed.text
    return placed.json()


async def erp_updates(shop, updates, mode="all_or_nothing"):
    async with client(shop.orders, ERP) as http:
        return await http.post("/erp/order-updates", json={"updates": updates, "mode": mode})


async def outbox_payloads(app, kind):
    from sqlalchemy import text

    async with app.state.sessionmaker() as session:
        rows = await session.execute(
            text("SELECT payload FROM outbox WHERE type LIKE :t ORDER BY seq"),
            {"t": f"%.{kind}.v1"},
        )
        return [r[0]["data"] for r in rows]


async def test_erp_moves_orders_in_bulk_and_delivery_records_otif(shop):
    first = await place(shop, name="A")
    second = await place(shop, {"KN-100": "20"}, name="B")
    async with client(shop.orders, ERP) as http:
        to_fulfil = (await http.get("/erp/orders")).json()["items"]
    assert [o["number"] for o in to_fulfil] == [first["number"], second["number"]]
    answer = await erp_updates(
        shop,
        [
            {
                "order": first["number"],
                "status": "confirmed",
                "at": "2026-11-23T08:00:00Z",
                "promised_from": "2026-11-24",
                "promised_to": "2026-11-25",
            },
            {"order": first["number"], "status": "shipped", "at": "2026-11-24T08:00:00Z"},
            {
                "order": first["number"],
                "status": "delivered",
                "at": "2026-11-25T15:00:00Z",
                "delivered": [{"sku": "CE-200", "quantity": "3"}],
            },
            {
                "order": second["number"],
                "status": "confirmed",
                "at": "2026-11-23T09:00:00Z",
                "promised_to": "2026-11-24",
            },
            {"order": second["number"], "status": "confirmed", "at": "2026-11-23T09:05:00Z"},
        ],
    )
    assert answer.json() == {"applied": 4, "unchanged": 1, "rejected": []}
    async with shop.as_buyer() as http:
        order = (await http.get(f"/orders/{first['id']}")).json()
    assert order["status"] == "delivered"
    assert [h["to_status"] for h in order["history"]] == [
        "placed",
        "confirmed",
        "shipped",
        "delivered",
    ]
    assert order["lines"][0]["delivered_quantity"] == "3.000"
    delivered = (await outbox_payloads(shop.orders, "delivered"))[0]
    assert (delivered["on_time"], delivered["in_full"]) == (True, False)
    assert await outbox_types(shop.orders) == [
        "order.placed",
        "order.placed",
        "order.confirmed",
        "order.shipped",
        "order.delivered",
        "order.confirmed",
    ]


async def test_a_bad_update_rejects_the_batch_or_is_skipped_as_erp_chose(shop):
    order = await place(shop)
    updates = [
        {"order": order["number"], "status": "delivered", "at": "2026-11-25T15:00:00Z"},
        {"order": "SO-99999999", "status": "shipped", "at": "2026-11-24T08:00:00Z"},
    ]
    refused = await erp_updates(shop, updates)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "updates", "message": "SO-99999999: unknown order", "row": 2}
    ]
    assert await outbox_types(shop.orders) == ["order.placed"]
    skipped = (await erp_updates(shop, updates, mode="skip_bad_rows")).json()
    assert (skipped["applied"], [r["row"] for r in skipped["rejected"]]) == (1, [2])
    backwards = await erp_updates(
        shop, [{"order": order["number"], "status": "confirmed", "at": "2026-11-26T08:00:00Z"}]
    )
    assert "a delivered order cannot become confirmed" in backwards.json()["errors"][0]["message"]


async def test_shipping_lets_catalog_release_the_orders_reservation(shop):
    order = await place(shop, {"CE-200": "6"})
    assert (await stock_of(shop, "CE-200"))["reserved"] == "6.000"
    await erp_updates(
        shop, [{"order": order["number"], "status": "shipped", "at": "2026-11-24T08:00:00Z"}]
    )
    shipped = OrderShippedV1.model_validate((await outbox_payloads(shop.orders, "shipped"))[0])
    handler = catalog_events.CONSUMERS["catalog"][OrderShippedV1]
    async with shop.catalog.state.sessionmaker() as session, session.begin():
        await handler(shipped, session)
    assert (await stock_of(shop, "CE-200"))["reserved"] == "0.000"


async def test_buyers_cancel_until_the_goods_leave(shop):
    order = await place(shop)
    async with shop.as_buyer() as http:
        cancelled = await http.post(f"/orders/{order['id']}/cancel", json={"reason": "wrong site"})
    assert cancelled.json()["status"] == "cancelled"
    cancel_event = (await outbox_payloads(shop.orders, "cancelled"))[0]
    assert cancel_event["counted"] is True and cancel_event["reservation_id"]
    shipped = await place(shop, name="Other")
    await erp_updates(
        shop, [{"order": shipped["number"], "status": "shipped", "at": "2026-11-24T08:00:00Z"}]
    )
    async with shop.as_buyer() as http:
        late = await http.post(f"/orders/{shipped['id']}/cancel", json={"reason": "too late"})
    assert late.status_code == 409


async def test_orders_are_seen_only_by_their_company_and_erp_endpoints_only_by_erp(shop):
    order = await place(shop)
    async with shop.as_stranger() as http:
        assert (await http.get(f"/orders/{order['id']}")).status_code == 404
        assert (await http.get("/orders")).json()["items"] == []
        assert (
            await http.post(f"/orders/{order['id']}/cancel", json={"reason": "x"})
        ).status_code == 404
    async with shop.as_buyer() as http:
        assert (await http.get("/erp/orders")).status_code == 403
        assert (await http.post("/erp/order-updates", json={"updates": []})).status_code == 403
    async with client(shop.orders, ERP) as http:
        assert (await http.get("/orders")).status_code == 403
        assert (await http.get(f"/orders/{order['id']}")).status_code == 403


async def test_history_merges_offline_orders_and_exports_csv(shop):
    await place(shop)
    other = await new_company((shop.accounts, shop.catalog, shop.pricing, shop.orders), "C2")
    offline = {
        "orders": [
            {
                "external_id": "ERP-7",
                "client": "C1",
                "placed_at": "2026-10-01T10:00:00Z",
                "currency": "EUR",
                "status": "delivered",
                "lines": [{"sku": "CE-200", "quantity": "5", "unit_price_minor": 1200}],
            },
            {
                "external_id": "ERP-8",
                "client": "C2",
                "placed_at": "2026-10-02T10:00:00Z",
                "currency": "EUR",
                "lines": [{"sku": "KN-100", "quantity": "10", "unit_price_minor": 500}],
            },
        ]
    }
    async with client(shop.orders, ERP) as http:
        unknown = await http.post(
            "/erp/offline-orders", json={"orders": [{**offline["orders"][0], "client": "NOPE"}]}
        )
        first = (await http.post("/erp/offline-orders", json=offline)).json()
        again = (await http.post("/erp/offline-orders", json=offline)).json()
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["row"] == 1
    assert (first, again) == (
        {"created": 2, "already_known": 0},
        {"created": 0, "already_known": 2},
    )
    async with shop.as_buyer() as http:
        history = (await http.get("/orders")).json()["items"]
        offline_only = (await http.get("/orders", params={"source": "erp"})).json()["items"]
        exported = await http.get("/orders/export")
    assert [o["source"] for o in history] == ["portal", "erp"]
    assert [(o["external_id"], o["status"], o["total_minor"]) for o in offline_only] == [
        ("ERP-7", "delivered", 6000)
    ]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["source"], r["sku"], r["quantity"]) for r in rows] == [
        ("portal", "CE-200", "4.000"),
        ("erp", "CE-200", "5.000"),
    ]
    assert await count(shop.orders, "orders", f"company_id = '{other}'") == 1
    placed = await outbox_payloads(shop.orders, "placed")
    assert [p["source"] for p in placed] == ["portal", "erp", "erp"]


async def test_reorder_copies_a_past_order_into_a_cart(shop):
    order = await place(shop, {"CE-200": "4", "KN-100": "10"})
    cart_id = await new_cart(shop, name="Again")
    async with shop.as_buyer() as http:
        result = (
            await http.post(f"/orders/{order['id']}/reorder", json={"cart_id": cart_id})
        ).json()
        cart = (await http.get(f"/carts/{cart_id}")).json()
    assert result == {"added": 2, "problems": []}
    assert {x["sku"]: x["quantity"] for x in cart["lines"]} == {
        "CE-200": "4.000",
        "KN-100": "10.000",
    }


async def test_erp_sending_a_whole_batch_again_changes_nothing(shop):
    """After a timeout ERP sends the batch again: every update the order went through at that
    time is unchanged, with no event; only a real regression is refused."""
    order = await place(shop)
    journey = [
        {
            "order": order["number"],
            "status": "confirmed",
            "at": "2026-11-23T08:00:00Z",
            "promised_to": "2026-11-25",
        },
        {"order": order["number"], "status": "shipped", "at": "2026-11-24T08:00:00Z"},
        {"order": order["number"], "status": "delivered", "at": "2026-11-25T15:00:00Z"},
    ]
    first = await erp_updates(shop, journey)
    assert first.json() == {"applied": 3, "unchanged": 0, "rejected": []}
    events = await outbox_types(shop.orders)
    again = await erp_updates(shop, journey)
    assert again.status_code == 200, again.text
    assert again.json() == {"applied": 0, "unchanged": 3, "rejected": []}
    assert await outbox_types(shop.orders) == events
    moved = await erp_updates(shop, [{**journey[0], "at": "2026-11-23T09:30:00Z"}])
    assert moved.status_code == 422
    assert (
        "was confirmed at 2026-11-23T08:00:00+00:00, not at 2026-11-23T09:30:00"
        in (moved.json()["errors"][0]["message"])
    )
    async with shop.as_buyer() as http:
        history = (await http.get(f"/orders/{order['id']}")).json()["history"]
    assert [h["to_status"] for h in history] == ["placed", "confirmed", "shipped", "delivered"]


async def test_a_step_erp_reports_late_is_unchanged_and_one_after_the_fact_is_refused(shop):
    order = await place(shop)
    number = order["number"]
    delivered = await erp_updates(
        shop, [{"order": number, "status": "delivered", "at": "2026-11-25T15:00:00Z"}]
    )
    assert delivered.json()["applied"] == 1
    late = await erp_updates(
        shop,
        [
            {"order": number, "status": "shipped", "at": "2026-11-24T08:00:00Z"},
            {"order": number, "status": "confirmed", "at": "2026-11-23T08:00:00Z"},
        ],
    )
    assert late.json() == {"applied": 0, "unchanged": 2, "rejected": []}
    after = await erp_updates(
        shop, [{"order": number, "status": "shipped", "at": "2026-11-26T08:00:00Z"}]
    )
    assert "a delivered order cannot become shipped" in after.json()["errors"][0]["message"]
    assert await outbox_types(shop.orders) == ["order.placed", "order.delivered"]
