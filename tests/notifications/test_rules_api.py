"""Rules and templates through the API: admins manage them, nobody else; previews render the
sample data; a stored rule with conditions on the client's segment fires on its event."""

from __future__ import annotations

import uuid

import pytest

from shared.auth import Role
from shared.clock import utcnow
from shared.testing.fixtures import as_role, client
from tests.notifications.world import (
    ADMIN,
    apply,
    companies_applied,
    envelope,
    order_placed,
    rows,
)

RULE = {
    "code": "big-order.manager",
    "description": "A big order of an A-class client: the manager calls to thank",
    "event_type": "order.placed.v1",
    "conditions": [
        {"path": "event.total_minor", "op": "gte", "value": 100000},
        {"path": "segment.abc_revenue", "op": "eq", "value": "A"},
    ],
    "audience": "sales_manager",
    "channel": "inbox",
    "kind": "tasks",
    "template": "big_order",
}


@pytest.mark.parametrize(
    "headers",
    [
        as_role(Role.BUYER, company_id=uuid.uuid4()),
        as_role(Role.COMPANY_ADMIN, company_id=uuid.uuid4()),
        as_role(Role.SALES_MANAGER),
        as_role(Role.PARTNER, kind="api_key", subject="p1"),
    ],
)
async def test_only_admins_change_rules_and_templates(start_app, headers):
    app = await start_app("notifications")
    async with client(app, headers) as http:
        for method, path, body in [
            ("POST", "/rules", RULE),
            ("PUT", "/templates/x/en", {"subject": "s", "body": "b"}),
            ("POST", "/templates/order_placed/en/preview", {}),
            ("GET", "/templates", None),
        ]:
            answer = await http.request(method, path, json=body)
            assert answer.status_code == 403, (method, path)
            assert answer.headers["content-type"] == "application/problem+json"


async def test_admin_adds_a_rule_on_segments_and_its_template_with_a_preview(start_app):
    app = await start_app("notifications")
    async with client(app, ADMIN) as http:
        builtin = (await http.get("/rules")).json()
        assert {"order.placed.email", "finance.overdue.14", "churn.manager"} <= {
            r["code"] for r in builtin
        }
        missing = await http.post("/rules", json=RULE)
        assert missing.status_code == 422  # no such template yet
        bad = await http.put("/templates/big_order/en", json={"subject": "{% if %}", "body": "b"})
        assert bad.status_code == 422
        for locale, subject in [
            ("en", "Big order {{ event.number }}"),
            ("ru", "Крупный заказ {{ event.number }}"),
        ]:
            put = await http.put(
                f"/templates/big_order/{locale}",
                json={
                    "subject": subject,
                    "body": "{{ company.legal_name }}: {{ event.total_minor | money(event.currency) }}",
                    "sample": {
                        "event": {"number": "N-1", "total_minor": 250000, "currency": "EUR"},
                        "company": {"legal_name": "Sample LLC"},
                    },
                },
            )
            assert put.status_code == 200, put.text
        preview = await http.post("/templates/big_order/en/preview", json={})
        assert preview.json() == {
            "key": "big_order",
            "locale": "en",
            "subject": "Big order N-1",
            "body": "Sample LLC: €2,500.00\n",
        }
        own_data = await http.post(
            "/templates/big_order/ru/preview",
            json={"data": {"event": {"number": "X"}, "company": {"legal_name": "Y"}}},
        )
        assert own_data.status_code == 422  # the data lacks total_minor: said, not hidden
        builtin_preview = await http.post("/templates/order_placed/ru/preview", json={})
        assert builtin_preview.json()["subject"] == "Заказ ORD-000123 оформлен"

        created = await http.post("/rules", json=RULE)
        assert created.status_code == 201, created.text
        assert (await http.post("/rules", json=RULE)).status_code == 409
        bad_op = await http.post(
            "/rules", json={**RULE, "code": "x", "conditions": [{"path": "x.y", "op": "eq"}]}
        )
        assert bad_op.status_code == 422
        builtin_id = next(r["id"] for r in builtin if r["code"] == "order.placed.inbox")
        assert (await http.delete(f"/rules/{builtin_id}")).status_code == 409
        off = await http.patch(f"/rules/{builtin_id}", json={"enabled": False})
        assert off.json()["enabled"] is False

    [a] = await companies_applied(app, "Alpha LLC")

    def order(total: int):
        return order_placed(a.id, f"N-{total}", total)

    await apply(app, order(500000))  # not an A client yet
    await apply(
        app,
        envelope(
            event_type="client.segment_changed.v1",
            topic="analytics.client",
            data={
                "client_id": str(a.id),
                "changes": [{"dimension": "abc_revenue", "previous": "B", "current": "A"}],
                "changed_at": utcnow().isoformat(),
            },
        ),
    )
    await apply(app, order(500000), order(5000))
    tasks = await rows(
        app,
        "SELECT recipient_id, subject FROM messages WHERE rule_code = 'big-order.manager'",
    )
    assert tasks == [{"recipient_id": a.manager_id, "subject": "Крупный заказ N-500000"}]
    inbox = await rows(
        app, "SELECT count(*) AS n FROM messages WHERE rule_code = 'order.placed.inbox'"
    )
    assert inbox[0]["n"] == 0  # disabled


async def test_company_preferences_belong_to_the_company_admin(start_app):
    app = await start_app("notifications")
    [a] = await companies_applied(app, "Alpha LLC")
    async with client(app, a.admin()) as http:
        put = await http.put(
            f"/companies/{a.id}/preferences",
            json={
                "locale": "en",
                "preferences": [{"kind": "offers", "channel": "email", "enabled": False}],
            },
        )
        assert put.status_code == 200
        assert put.json()["locale"] == "en"
        assert (await http.get(f"/companies/{uuid.uuid4()}/preferences")).status_code == 404
    async with client(app, a.buyer()) as http:
        assert (await http.get(f"/companies/{a.id}/preferences")).status_code == 403
    async with client(app, ADMIN) as http:
        got = await http.get(f"/companies/{a.id}/preferences")
        assert got.json()["preferences"] == [
            {"kind": "offers", "channel": "email", "enabled": False}
        ]
        bad = await http.put("/preferences/me", json={"timezone": "Mars/Olympus"})
        assert bad.status_code == 422


async def test_webhooks_into_our_own_network_are_refused_by_default(start_app):
    app = await start_app("notifications")  # private URLs are off unless a test turns them on
    async with client(app, ADMIN) as http:
        for url in (
            "http://127.0.0.1:9000/x",
            "http://10.0.0.1/x",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:8080/",
            "http://2130706433/",  # 127.0.0.1 as one number
            "http://0x7f.1/",
            "http://0.0.0.0:8006/",
            "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
            "http://224.0.0.1/",
            "http://localhost:8000/",
        ):
            refused = await http.post("/webhooks", json={"url": url, "event_types": ["*"]})
            assert refused.status_code == 422, url
            assert refused.json()["errors"][0]["field"] == "url"
        bad_scheme = await http.post(
            "/webhooks", json={"url": "file:///etc/passwd", "event_types": ["*"]}
        )
        assert bad_scheme.status_code == 422


async def test_webhooks_take_the_published_event_types_in_either_spelling_and_refuse_others(
    start_app,
):
    """The CloudEvents type and the short type both subscribe (stored short, as events are
    matched), so an order placed reaches the subscriber; a type nobody publishes is a 422
    naming its index, never a subscription that silently gets nothing."""
    app = await start_app("notifications")
    hook = {"url": "https://93.184.215.14/b2b"}  # public, and no DNS needed
    async with client(app, ADMIN) as http:
        created = await http.post(
            "/webhooks",
            json={**hook, "event_types": ["com.b2b.order.placed.v1", "stock.changed.v1"]},
        )
        assert created.status_code == 201, created.text
        sub = created.json()
        assert sub["event_types"] == ["order.placed.v1", "stock.changed.v1"]
        for wrong in (["order.placed.v1", "order.placed"], ["*", "com.b2b.order.placed.v9"]):
            refused = await http.post("/webhooks", json={**hook, "event_types": wrong})
            assert refused.status_code == 422, wrong
            assert [(e["field"], e["row"]) for e in refused.json()["errors"]] == [
                ("event_types[1]", 2)
            ]
        patched = await http.patch(
            f"/webhooks/{sub['id']}", json={"event_types": ["com.b2b.order.placed"]}
        )
        assert patched.status_code == 422
        assert (await http.get(f"/webhooks/{sub['id']}")).json()["event_types"] == sub[
            "event_types"
        ]
    await apply(app, order_placed(uuid.uuid4(), total_minor=100))
    queued = await rows(
        app, "SELECT event_type FROM webhook_deliveries WHERE subscription_id = :s", s=sub["id"]
    )
    assert [r["event_type"] for r in queued] == ["order.placed.v1"]
    assert await rows(app, "SELECT count(*) AS n FROM webhook_subscriptions") == [{"n": 1}]


async def test_a_companys_subscription_refuses_events_about_no_company(start_app):
    """A company's subscription gets only events about that company. An event about no
    company (a product, stock, prices, people) would never reach it, and is the seller's (stock
    held for other clients, their price changes), so naming one is a 422 naming its index;
    `*` means every event about the company; a seller-wide subscription takes them all."""
    app = await start_app("notifications")
    hook = {"url": "https://93.184.215.14/b2b"}  # public, and no DNS needed
    company = uuid.uuid4()
    scoped = {**hook, "company_id": str(company)}
    async with client(app, ADMIN) as http:
        for wrong in (
            ["order.placed.v1", "com.b2b.product.upserted.v1"],
            ["*", "stock.reserved.v1"],
        ):
            refused = await http.post("/webhooks", json={**scoped, "event_types": wrong})
            assert refused.status_code == 422, refused.text
            assert [(e["field"], e["row"]) for e in refused.json()["errors"]] == [
                ("event_types[1]", 2)
            ]
            assert "product" in refused.text or "stock" in refused.text
        about = ["client.segment_changed.v1", "order.placed.v1"]  # client_id / company_id
        created = await http.post("/webhooks", json={**scoped, "event_types": about})
        assert created.status_code == 201, created.text
        everything = await http.post("/webhooks", json={**scoped, "event_types": ["*"]})
        assert everything.status_code == 201, everything.text
        seller_wide = await http.post(
            "/webhooks", json={**hook, "event_types": ["price.changed.v1"]}
        )
        assert seller_wide.status_code == 201, seller_wide.text
        patched = await http.patch(
            f"/webhooks/{created.json()['id']}", json={"event_types": ["person.changed.v1"]}
        )
        assert patched.status_code == 422
        assert patched.json()["errors"][0]["field"] == "event_types[0]"
    async with client(app, as_role(Role.COMPANY_ADMIN, company_id=company)) as http:
        own = await http.post("/webhooks", json={**hook, "event_types": ["product.upserted.v1"]})
        assert own.status_code == 422, own.text
    kept = await rows(app, "SELECT event_types FROM webhook_subscriptions ORDER BY created_at")
    assert [r["event_types"] for r in kept] == [about, ["*"], ["price.changed.v1"]]
