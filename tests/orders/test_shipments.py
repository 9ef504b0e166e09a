"""Shipments: an order leaves in parts and is delivered when every part has arrived."""

from __future__ import annotations

from shared.testing.fixtures import client
from tests.orders.test_lifecycle import erp_updates, outbox_payloads, place
from tests.orders.world import ERP


async def shipments(shop, rows, mode="all_or_nothing"):
    async with client(shop.orders, ERP) as http:
        return await http.post("/erp/shipments", json={"shipments": rows, "mode": mode})


def part(order, number, status, at, lines=None, **more):
    row = {"order": order, "shipment": number, "status": status, "at": at, **more}
    if lines is not None:
        row["lines"] = [{"sku": s, "quantity": q} for s, q in lines.items()]
    return row


async def test_an_order_shipped_in_two_parts_is_delivered_when_both_arrive(shop):
    order = await place(shop, {"CE-200": "60", "KN-100": "10"})
    number = order["number"]
    confirmed = await erp_updates(
        shop,
        [
            {
                "order": number,
                "status": "confirmed",
                "at": "2026-11-23T08:00:00Z",
                "promised_to": "2026-11-28",
            }
        ],
    )
    assert confirmed.json()["applied"] == 1
    first = await shipments(
        shop,
        [
            part(
                number,
                "SH-1",
                "shipped",
                "2026-11-24T08:00:00Z",
                {"CE-200": "60"},
                warehouse="MAIN",
            )
        ],
    )
    assert first.json() == {"applied": 1, "unchanged": 0, "rejected": []}
    async with shop.as_buyer() as http:
        now = (await http.get(f"/orders/{order['id']}")).json()
    assert now["status"] == "shipped"
    assert [(s["number"], s["warehouse"], s["status"]) for s in now["shipments"]] == [
        ("SH-1", "MAIN", "shipped")
    ]
    # The rest is made to order; the first part arrives with two bags short.
    rest = await shipments(
        shop,
        [
            part(number, "SH-2", "shipped", "2026-11-27T08:00:00Z", kind="made_to_order"),
            part(number, "SH-1", "delivered", "2026-11-25T09:00:00Z", {"CE-200": "58"}),
            part(number, "SH-1", "delivered", "2026-11-25T09:00:00Z"),
        ],
    )
    assert rest.json() == {"applied": 2, "unchanged": 1, "rejected": []}
    async with shop.as_buyer() as http:
        assert (await http.get(f"/orders/{order['id']}")).json()["status"] == "shipped"
    last = await shipments(shop, [part(number, "SH-2", "delivered", "2026-11-29T10:00:00Z")])
    assert last.json()["applied"] == 1
    async with shop.as_buyer() as http:
        done = (await http.get(f"/orders/{order['id']}")).json()
    assert done["status"] == "delivered" and done["delivered_at"].startswith("2026-11-29")
    assert {x["sku"]: x["delivered_quantity"] for x in done["lines"]} == {
        "CE-200": "58.000",
        "KN-100": "10.000",
    }
    assert {s["number"]: s["kind"] for s in done["shipments"]} == {
        "SH-1": "stock",
        "SH-2": "made_to_order",
    }
    [delivered] = await outbox_payloads(shop.orders, "delivered")
    assert (delivered["on_time"], delivered["in_full"]) == (False, False)
    events = await outbox_payloads(shop.orders, "shipment")
    assert [(e["number"], e["status"]) for e in events] == [
        ("SH-1", "shipped"),
        ("SH-1", "delivered"),  # a batch is applied per order in time order
        ("SH-2", "shipped"),
        ("SH-2", "delivered"),
    ]
    assert len(await outbox_payloads(shop.orders, "shipped")) == 1


async def test_a_shipment_carrying_more_than_is_left_is_refused_and_changes_nothing(shop):
    order = await place(shop, {"CE-200": "4"})
    number = order["number"]
    refused = await shipments(
        shop,
        [
            part(number, "SH-1", "shipped", "2026-11-24T08:00:00Z", {"CE-200": "3"}),
            part(number, "SH-2", "shipped", "2026-11-24T09:00:00Z", {"CE-200": "2"}),
            part(number, "SH-9", "delivered", "2026-11-24T10:00:00Z"),
            part("SO-99999999", "SH-1", "shipped", "2026-11-24T08:00:00Z"),
        ],
    )
    assert refused.status_code == 422
    assert [e["row"] for e in refused.json()["errors"]] == [2, 3, 4]
    async with shop.as_buyer() as http:
        same = (await http.get(f"/orders/{order['id']}")).json()
    assert same["status"] == "placed" and same["shipments"] == []
    skipped = await shipments(
        shop,
        [
            part(number, "SH-1", "shipped", "2026-11-24T08:00:00Z", {"CE-200": "3"}),
            part(number, "SH-2", "shipped", "2026-11-24T09:00:00Z", {"CE-200": "2"}),
        ],
        mode="skip_bad_rows",
    )
    assert skipped.json()["applied"] == 1 and skipped.json()["rejected"][0]["row"] == 2
    async with shop.as_buyer() as http:
        assert (await http.post("/erp/shipments", json={"shipments": []})).status_code == 403


async def test_a_shipments_batch_sent_again_changes_nothing_and_another_time_is_refused(shop):
    """The same rule as order updates: what the shipment went through at that time is
    unchanged; the same shipment said to have left at another time is a regression."""
    order = await place(shop, {"CE-200": "4"})
    batch = [
        part(order["number"], "SH-1", "shipped", "2026-11-24T08:00:00Z", warehouse="MAIN"),
        part(order["number"], "SH-1", "delivered", "2026-11-25T09:00:00Z"),
    ]
    assert (await shipments(shop, batch)).json() == {"applied": 2, "unchanged": 0, "rejected": []}
    events = len(await outbox_payloads(shop.orders, "shipment"))
    again = await shipments(shop, batch)
    assert again.json() == {"applied": 0, "unchanged": 2, "rejected": []}
    assert len(await outbox_payloads(shop.orders, "shipment")) == events
    other_time = await shipments(shop, [{**batch[0], "at": "2026-11-24T10:00:00Z"}])
    assert other_time.status_code == 422
    assert "was shipped at 2026-11-24T08:00:00+00:00" in other_time.json()["errors"][0]["message"]
