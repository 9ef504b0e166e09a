"""Email over a real SMTP server and signed webhooks to a real HTTP receiver, through the real
broker: an outage delays messages and loses none; a failing receiver sees retries, then success,
and a subscriber failing long enough is paused and its company admin told."""

from __future__ import annotations

import uuid

import orjson

from services.notifications.domain.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_webhook,
)
from shared.clock import utcnow
from shared.contracts.orders import OrderShippedV1
from shared.testing.fixtures import client
from tests.notifications.world import (
    applied,
    companies_published,
    envelope,
    eventually,
    order_placed,
    publish,
    rows,
)


async def test_smtp_down_at_first_then_up_receives_every_message_once(
    start_app, kafka_bootstrap, smtp, notifications_settings
):
    app = await start_app("notifications", **notifications_settings)  # no SMTP server yet
    [a] = await companies_published(app, kafka_bootstrap, "Alpha LLC")
    orders = [order_placed(a.id, f"ORD-{n}") for n in range(5)]
    await publish(kafka_bootstrap, *orders)
    await applied(app, orders)

    async def tried_and_failed():
        found = await rows(
            app,
            "SELECT count(*) AS n FROM messages WHERE channel = 'email' AND attempts >= 2 "
            "AND last_error IS NOT NULL AND status = 'pending'",
        )
        return found[0]["n"] == 10  # 5 orders x (buyer + admin)

    await eventually(tried_and_failed)
    assert smtp.mailbox.received == []

    smtp.start()

    async def all_received():
        return len(smtp.mailbox.received) >= 10

    await eventually(all_received)
    await eventually(
        lambda: _count(app, "SELECT count(*) AS n FROM messages WHERE status = 'sent'", 10)
    )
    subjects = sorted(m["Subject"] for m in smtp.mailbox.to(a.buyer_email))
    assert subjects == [f"Заказ ORD-{n} оформлен" for n in range(5)]
    ids = [m["X-B2B-Message-Id"] for m in smtp.mailbox.received]
    assert len(ids) == len(set(ids)) == 10


async def _count(app, sql: str, want: int) -> bool:
    found = await rows(app, sql)
    return found[0]["n"] == want


async def test_webhook_receiver_failing_sees_retries_then_success_with_a_valid_signature(
    start_app, kafka_bootstrap, receiver, notifications_settings
):
    app = await start_app("notifications", **notifications_settings)
    a, b = await companies_published(app, kafka_bootstrap, "Alpha LLC", "Beta LLC")
    hook = await receiver(statuses=[500, 500])
    async with client(app, a.admin()) as http:
        created = await http.post(
            "/webhooks", json={"url": hook.url, "event_types": ["order.shipped.v1"]}
        )
        assert created.status_code == 201, created.text
        sub = created.json()
    assert sub["secret"].startswith("whsec_")
    assert sub["company_id"] == str(a.id)

    shipped = envelope(
        OrderShippedV1(order_id=uuid.uuid4(), company_id=a.id, number="ORD-9", shipped_at=utcnow())
    )
    others = [
        order_placed(a.id, "ORD-10"),  # a type it did not subscribe to
        envelope(
            OrderShippedV1(
                order_id=uuid.uuid4(), company_id=b.id, number="B-1", shipped_at=utcnow()
            )
        ),  # another company's
    ]
    await publish(kafka_bootstrap, shipped, *others)
    await applied(app, [shipped, *others])

    async def succeeded():
        found = await rows(app, "SELECT status FROM webhook_deliveries")
        return found and all(r["status"] == "succeeded" for r in found)

    await eventually(succeeded)
    assert len(hook.calls) == 3
    for call in hook.calls:
        assert verify_webhook(
            sub["secret"],
            call.headers[TIMESTAMP_HEADER.lower()],
            call.body,
            call.headers[SIGNATURE_HEADER.lower()],
        )
        assert not verify_webhook(
            "whsec_wrong",
            call.headers[TIMESTAMP_HEADER.lower()],
            call.body,
            call.headers[SIGNATURE_HEADER.lower()],
        )
    body = orjson.loads(hook.calls[-1].body)
    assert body["id"] == str(shipped[2].id)
    assert body["type"] == "com.b2b.order.shipped.v1"
    assert body["data"]["number"] == "ORD-9"
    assert {c.headers["x-b2b-event-id"] for c in hook.calls} == {str(shipped[2].id)}

    async with client(app, a.admin()) as http:
        log = (await http.get(f"/webhooks/{sub['id']}/deliveries")).json()["items"]
        assert len(log) == 1
        detail = (await http.get(f"/webhooks/deliveries/{log[0]['id']}")).json()
        assert [x["status_code"] for x in detail["log"]] == [500, 500, 200]
        # manual redelivery sends it once more, signed afresh
        again = await http.post(f"/webhooks/deliveries/{log[0]['id']}/redeliver")
        assert again.status_code == 202
    await eventually(lambda: _true(len(hook.calls) == 4))
    async with client(app, b.admin()) as http:  # another company's admin sees none of it
        assert (await http.get(f"/webhooks/{sub['id']}")).status_code == 404
        assert (await http.get(f"/webhooks/deliveries/{log[0]['id']}")).status_code == 404
        assert (await http.get("/webhooks")).json() == []
    async with client(app, a.buyer()) as http:  # a buyer manages no webhooks
        assert (await http.get("/webhooks")).status_code == 403


async def _true(value: bool) -> bool:
    return value


async def test_a_subscriber_failing_long_enough_is_paused_and_its_admin_told(
    start_app, kafka_bootstrap, receiver, smtp, notifications_settings
):
    smtp.start()
    app = await start_app(
        "notifications", **{**notifications_settings, "webhook_pause_after_seconds": 0.5}
    )
    [a] = await companies_published(app, kafka_bootstrap, "Alpha LLC")
    hook = await receiver(then=503)
    async with client(app, a.admin()) as http:
        sub = (await http.post("/webhooks", json={"url": hook.url, "event_types": ["*"]})).json()
    event = order_placed(a.id, "ORD-1")
    await publish(kafka_bootstrap, event)

    async def paused():
        found = await rows(app, "SELECT status FROM webhook_subscriptions")
        return found[0]["status"] == "paused"

    await eventually(paused)

    def told():
        return [m for m in smtp.mailbox.to(a.admin_email) if "Вебхук" in m["Subject"]]

    await eventually(lambda: _true(bool(told())))
    told = told()
    assert len(told) == 1 and hook.url in told[0]["Subject"]
    assert not [m for m in smtp.mailbox.to(a.buyer_email) if "Вебхук" in m["Subject"]]
    calls = len(hook.calls)

    # the receiver is fixed; resuming delivers what waited
    hook.then = 200
    async with client(app, a.admin()) as http:
        resumed = await http.post(f"/webhooks/{sub['id']}/resume")
        assert resumed.json()["status"] == "active"

    async def delivered():
        found = await rows(app, "SELECT status FROM webhook_deliveries")
        return [r["status"] for r in found] == ["succeeded"]

    await eventually(delivered)
    assert len(hook.calls) > calls
