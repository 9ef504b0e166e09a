"""The broker stops while clients check out: orders are still placed (the outbox holds their
events), and once a broker is back every held event reaches it exactly once.

The embedded broker keeps topics in memory, so the restarted one starts empty: what it must
receive is exactly what was not yet published, no more (nothing published twice) and no less.
"""

from __future__ import annotations

import orjson
from sqlalchemy import text

from shared.contracts.orders import ORDER_TOPIC
from shared.runtime import EmbeddedBroker, free_port
from shared.testing.fixtures import client
from shared.testing.kafka import read_topic
from tests.orders.test_checkout import checkout
from tests.orders.world import ERP, new_cart, open_shop
from tests.stack import eventually


async def unpublished(app) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))


def event_types(records) -> list[tuple[str, str]]:
    out = []
    for record in records:
        headers = dict(record.headers)
        body = orjson.loads(record.value)
        kind = (headers.get("ce_type") or b"").decode() or body.get("type", "")
        data = body.get("data", body)
        out.append((kind.split(".")[-3] + "." + kind.split(".")[-2], data["order_id"]))
    return out


async def test_orders_placed_while_the_broker_is_down_reach_it_once_it_is_back(start_app, tmp_path):
    broker = EmbeddedBroker(free_port(), log_path=tmp_path / "broker.log")
    bootstrap = broker.start()
    try:
        shop = await open_shop(start_app, kafka_bootstrap_servers=bootstrap, run_workers=True)
        first = await checkout(shop, await new_cart(shop, {"CE-200": "1"}, name="before"))
        assert first.status_code == 201
        await eventually(lambda: _zero(shop.orders))

        broker.stop()
        placed = []
        for name in ("during-1", "during-2"):
            response = await checkout(shop, await new_cart(shop, {"KN-100": "10"}, name=name))
            assert response.status_code == 201, response.text
            placed.append(response.json())
        async with client(shop.orders, ERP) as http:
            confirmed = await http.post(
                "/erp/order-updates",
                json={
                    "updates": [
                        {
                            "order": placed[0]["number"],
                            "status": "confirmed",
                            "at": "2026-11-23T10:00:00Z",
                        }
                    ]
                },
            )
        assert confirmed.json()["applied"] == 1
        # The relay tries, the broker does not answer: the rows stay, with the failure noted.
        await eventually(lambda: _tried(shop.orders), within=40)
        assert await unpublished(shop.orders) == 3

        broker.start()
        await eventually(lambda: _zero(shop.orders))
        records = await read_topic(bootstrap, ORDER_TOPIC, expect=4, within=5)
        assert sorted(event_types(records)) == sorted(
            [
                ("order.placed", placed[0]["id"]),
                ("order.placed", placed[1]["id"]),
                ("order.confirmed", placed[0]["id"]),
            ]
        )
        ids = [dict(r.headers).get("ce_id") or orjson.loads(r.value).get("id") for r in records]
        assert len(set(ids)) == len(ids) == 3
    finally:
        broker.stop()


async def _zero(app) -> bool:
    return await unpublished(app) == 0


async def _tried(app) -> bool:
    """Every held row has had a failed attempt. (Restarting the broker before that would race
    the embedded broker: it acknowledges a produce that was in flight across its restart for a
    topic it no longer has, and drops it; a durable Kafka does not.)"""
    async with app.state.sessionmaker() as session:
        held = await session.scalar(
            text("SELECT count(*) FROM outbox WHERE published_at IS NULL AND attempts = 0")
        )
    return held == 0
