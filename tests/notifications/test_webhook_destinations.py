"""Webhooks never reach into our own network (SSRF): refused when subscribing, refused again
at every connection (DNS may answer otherwise by then), and production cannot turn that off.
What a subscriber reads of an attempt is its status and a short reason, never the answer's
body."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import orjson
import pytest
from sqlalchemy import insert, make_url

from services.notifications.clients.webhooks import webhook_client
from services.notifications.domain.destinations import first_refusal, refusal
from services.notifications.settings import Settings
from services.notifications.store.models import WebhookSubscription
from shared.migrations import upgrade
from shared.runtime import create_database, service_database_url
from shared.testing.fixtures import client
from tests.notifications.world import (
    applied,
    companies_published,
    eventually,
    order_placed,
    publish,
    rows,
)

PRODUCTION = {
    "environment": "production",
    "internal_secret": "a-production-internal-secret-0123456789",
    "jwt_secret": "a-production-jwt-secret-0123456789abcdef",
    "link_secret": "a-production-link-secret-0123456789",
}


def test_private_webhook_urls_are_off_by_default_and_production_refuses_them():
    assert Settings().webhook_allow_private_urls is False
    assert Settings(**PRODUCTION).webhook_allow_private_urls is False
    with pytest.raises(ValueError, match="webhook_allow_private_urls"):
        Settings(**PRODUCTION, webhook_allow_private_urls=True)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "::",
        "fe80::1%eth0",
        "fd00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
    ],
)
def test_addresses_of_our_own_network_are_refused(address):
    assert refusal(address) is not None


def test_public_addresses_are_allowed_unless_the_host_also_has_a_private_one():
    assert refusal("93.184.215.14") is None
    assert refusal("2606:4700:4700::1111") is None
    assert first_refusal(["93.184.215.14", "2606:4700:4700::1111"]) is None
    assert first_refusal(["93.184.215.14", "10.0.0.7"]) == "10.0.0.7 is a private address"


@pytest.mark.parametrize(
    "host", ["localhost", "127.0.0.1", "2130706433", "0x7f.1", "0x7f000001", "[::1]"]
)
async def test_a_connection_to_our_own_network_is_refused_whatever_the_spelling(receiver, host):
    hook = await receiver()
    async with webhook_client(Settings()) as http:
        with pytest.raises(httpx.ConnectError, match="refused"):
            await http.post(f"http://{host}:{hook.port}/hooks", content=b"{}")
    assert hook.calls == []


async def _deliver_one_order(app, kafka_bootstrap, company_id: uuid.UUID) -> None:
    event = order_placed(company_id, "ORD-1")
    await publish(kafka_bootstrap, event)
    await applied(app, [event])


async def test_a_host_resolving_into_our_network_at_delivery_is_never_called(
    start_app, kafka_bootstrap, receiver, notifications_settings
):
    hook = await receiver()
    app = await start_app(
        "notifications", **{**notifications_settings, "webhook_allow_private_urls": False}
    )
    a, _ = await _subscribe_directly(app, kafka_bootstrap, f"http://localhost:{hook.port}/hooks")
    await _deliver_one_order(app, kafka_bootstrap, a.id)

    async def tried():
        found = await rows(app, "SELECT error FROM webhook_attempts")
        return found and found[0]["error"]

    error = await eventually(tried)
    assert error.startswith("refused: ") and "loopback" in error
    assert hook.calls == []


async def _subscribe_directly(app, kafka_bootstrap, url: str):
    [a] = await companies_published(app, kafka_bootstrap, "Alpha LLC")
    # Stored as the API stored it once the host had resolved to a public address: the DNS
    # answer changed before the delivery (rebinding).
    async with app.state.sessionmaker() as session, session.begin():
        sub_id = await session.scalar(
            insert(WebhookSubscription)
            .values(
                company_id=a.id,
                url=url,
                event_types=["*"],
                secret="whsec_test",
                description="",
                status="active",
                created_by="test",
            )
            .returning(WebhookSubscription.id)
        )
    return a, sub_id


async def test_the_delivery_log_shows_status_and_a_short_reason_never_the_answer(
    start_app, kafka_bootstrap, receiver, notifications_settings
):
    hook = await receiver(then=500)
    hook.body = b"Traceback: db password=hunter2 at 10.0.0.5"
    app = await start_app(
        "notifications",
        **{**notifications_settings, "webhook_max_attempts": 1},
    )
    [a] = await companies_published(app, kafka_bootstrap, "Alpha LLC")
    async with client(app, a.admin()) as http:
        sub = (await http.post("/webhooks", json={"url": hook.url, "event_types": ["*"]})).json()
    await _deliver_one_order(app, kafka_bootstrap, a.id)

    async def failed():
        found = await rows(app, "SELECT status FROM webhook_deliveries")
        return found and found[0]["status"] == "failed"

    await eventually(failed)
    async with client(app, a.admin()) as http:
        [delivery] = (await http.get(f"/webhooks/{sub['id']}/deliveries")).json()["items"]
        detail = await http.get(f"/webhooks/deliveries/{delivery['id']}")
    assert delivery["last_status_code"] == 500
    assert delivery["last_error"] == "500 Internal Server Error"
    assert [(x["status_code"], x["error"]) for x in detail.json()["log"]] == [
        (500, "500 Internal Server Error")
    ]
    assert b"hunter2" not in detail.content and b"Traceback" not in orjson.dumps(delivery)


async def test_the_logs_kept_before_lose_the_answers_they_held(infra):
    """What receivers answered, logged before this change, is gone after the migration."""
    url = service_database_url(infra[0], "notifications", "_migration_test")
    await create_database(url, drop_first=True)
    await asyncio.to_thread(upgrade, "notifications", url, "notifications_0005")
    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        sub, delivery = uuid.uuid4(), uuid.uuid4()
        await conn.execute(
            "INSERT INTO webhook_subscriptions (id, url, event_types, secret, created_by) "
            "VALUES ($1, 'https://hooks.example/x', '{*}', 'whsec_x', 'test')",
            sub,
        )
        await conn.execute(
            "INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_type, payload, "
            "last_status_code, last_error) VALUES ($1, $2, $3, 'x', '{}', 500, "
            "'Traceback: password=hunter2')",
            delivery,
            sub,
            uuid.uuid4(),
        )
        await conn.execute(
            "INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, duration_ms) "
            "VALUES ($1, 1, 500, 'Traceback: password=hunter2', 5), "
            "($1, 2, NULL, 'connection timed out', 5)",
            delivery,
        )
        await asyncio.to_thread(upgrade, "notifications", url)
        attempts = await conn.fetch("SELECT status_code, error FROM webhook_attempts ORDER BY id")
        last = await conn.fetchval("SELECT last_error FROM webhook_deliveries")
    finally:
        await conn.close()
    assert [tuple(a) for a in attempts] == [(500, "HTTP 500"), (None, "connection timed out")]
    assert last == "HTTP 500"
