"""What each person gets: preferences and quiet hours (through the real broker), the inbox and
its isolation between companies, digests and throttling, unsubscribe and survey links."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from services.notifications.workers import send_digests, send_emails
from shared.auth import Role
from shared.clock import today, utcnow
from shared.contracts.orders import QuoteOfferedV1
from shared.testing.fixtures import as_role, client
from tests.notifications.world import (
    applied,
    apply,
    companies_applied,
    companies_published,
    envelope,
    eventually,
    order_delivered,
    order_placed,
    publish,
    rows,
)


async def test_preferences_and_quiet_hours_are_honoured(
    start_app, kafka_bootstrap, smtp, notifications_settings
):
    smtp.start()
    app = await start_app("notifications", **notifications_settings)
    a, b = await companies_published(app, kafka_bootstrap, "Alpha LLC", "Beta LLC")
    now = utcnow()
    quiet_from = (now - timedelta(hours=1)).time().replace(microsecond=0)
    quiet_to = (now + timedelta(hours=2)).time().replace(second=0, microsecond=0)
    async with client(app, a.buyer()) as http:  # the buyer wants no order emails, in English
        put = await http.put(
            "/preferences/me",
            json={
                "locale": "en",
                "preferences": [{"kind": "orders", "channel": "email", "enabled": False}],
            },
        )
        assert put.status_code == 200, put.text
        assert put.json()["preferences"] == [
            {"kind": "orders", "channel": "email", "enabled": False}
        ]
    async with client(app, a.admin()) as http:  # the admin sleeps now (UTC)
        put = await http.put(
            "/preferences/me",
            json={"timezone": "UTC", "quiet_from": str(quiet_from), "quiet_to": str(quiet_to)},
        )
        assert put.status_code == 200, put.text
    async with client(app, b.admin()) as http:  # Beta turns order emails off company-wide
        put = await http.put(
            f"/companies/{b.id}/preferences",
            json={"preferences": [{"kind": "orders", "channel": "email", "enabled": False}]},
        )
        assert put.status_code == 200, put.text
        assert (await http.put(f"/companies/{a.id}/preferences", json={})).status_code == 404
    async with client(app, b.buyer()) as http:  # but Beta's buyer wants them back
        await http.put(
            "/preferences/me",
            json={"preferences": [{"kind": "orders", "channel": "email", "enabled": True}]},
        )
        assert (await http.put(f"/companies/{b.id}/preferences", json={})).status_code == 403

    events = [order_placed(a.id, "A-1"), order_placed(b.id, "B-1")]
    await publish(kafka_bootstrap, *events)
    await applied(app, events)

    made = {
        (m["recipient_id"], m["channel"]): m
        for m in await rows(app, "SELECT * FROM messages WHERE rule_code LIKE 'order.placed.%'")
    }
    assert made[(a.buyer_id, "email")]["status"] == "suppressed"
    assert made[(a.buyer_id, "inbox")]["status"] == "delivered"  # the inbox is still on
    assert made[(a.buyer_id, "inbox")]["subject"] == "Order A-1 placed"  # English
    held = made[(a.admin_id, "email")]
    assert held["status"] == "pending"
    assert held["due_at"].time().replace(tzinfo=None) == quiet_to
    assert held["due_at"] > now
    assert made[(b.admin_id, "email")]["status"] == "suppressed"  # the company's choice
    assert made[(b.buyer_id, "email")]["status"] in ("pending", "sent")  # own choice wins

    async def beta_buyer_mailed():
        return bool(smtp.mailbox.to(b.buyer_email))

    await eventually(beta_buyer_mailed)
    assert smtp.mailbox.to(a.buyer_email) == []
    assert smtp.mailbox.to(a.admin_email) == []  # quiet hours
    assert smtp.mailbox.to(b.admin_email) == []


async def test_inbox_lists_counts_and_marks_read_only_ones_own_company(start_app):
    app = await start_app("notifications")
    a, b = await companies_applied(app, "Alpha LLC", "Beta LLC")
    await apply(
        app, order_placed(a.id, "A-1"), order_placed(a.id, "A-2"), order_placed(b.id, "B-1")
    )
    async with client(app, a.buyer()) as http:
        listed = await http.get("/inbox")
        assert listed.status_code == 200
        items = listed.json()["items"]
        assert [i["subject"] for i in items] == ["Заказ A-2 оформлен", "Заказ A-1 оформлен"]
        assert (await http.get("/inbox/unread-count")).json() == {"unread": 2}
        assert (await http.post(f"/inbox/{items[0]['id']}/read")).status_code == 204
        assert (await http.get("/inbox/unread-count")).json() == {"unread": 1}
        assert len((await http.get("/inbox", params={"unread": True})).json()["items"]) == 1
        assert (await http.post("/inbox/read-all")).status_code == 204
        assert (await http.get("/inbox/unread-count")).json() == {"unread": 0}
    b_items = (await _inbox(app, b.buyer()))["items"]
    assert [i["subject"] for i in b_items] == ["Заказ B-1 оформлен"]
    async with client(app, a.buyer()) as http:  # Beta's message is no business of Alpha's
        assert (await http.post(f"/inbox/{b_items[0]['id']}/read")).status_code == 404
    async with client(app, {}) as http:
        answer = await http.get("/inbox")
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
    partner = as_role(Role.PARTNER, kind="api_key", subject="market-1")
    async with client(app, partner) as http:  # an API key has no inbox
        assert (await http.get("/inbox")).status_code == 403
        assert (await http.get("/preferences/me")).status_code == 403


async def _inbox(app, headers):
    async with client(app, headers) as http:
        return (await http.get("/inbox")).json()


async def test_a_burst_is_throttled_into_one_digest_and_digest_mode_waits_for_the_day(
    start_app, smtp
):
    smtp.start()
    app = await start_app("notifications", smtp_port=smtp.port, throttle_per_recipient=3)
    [a] = await companies_applied(app, "Alpha LLC")
    async with client(app, a.admin()) as http:
        await http.put("/preferences/me", json={"digest": True, "locale": "en"})
    await apply(app, *[order_placed(a.id, f"ORD-{n}") for n in range(10)])

    statuses = await rows(
        app,
        "SELECT recipient_id, status, count(*) AS n FROM messages WHERE channel = 'email' "
        "GROUP BY recipient_id, status",
    )
    got = {(r["recipient_id"], r["status"]): r["n"] for r in statuses}
    assert got == {
        (a.buyer_id, "pending"): 3,
        (a.buyer_id, "digest"): 7,
        (a.admin_id, "digest"): 10,
    }

    assert await send_digests(app) == 0  # nothing is due yet
    assert await send_digests(app, now=utcnow() + timedelta(days=1, hours=1)) == 2
    while await send_emails(app):
        pass
    assert len(smtp.mailbox.to(a.buyer_email)) == 4  # three, then one with the other seven
    [digest] = smtp.mailbox.to(a.admin_email)
    assert digest["Subject"] == "10 updates"
    assert digest.get_content().count("* Order ORD-") == 10


async def test_unsubscribe_link_and_survey_link(start_app):
    app = await start_app("notifications")
    [a] = await companies_applied(app, "Alpha LLC")
    order_id = uuid.uuid4()
    await apply(app, order_delivered(a.id, "ORD-7", order_id))
    [survey] = await rows(
        app,
        "SELECT body, due_at FROM messages WHERE rule_code = 'survey.delivery' "
        "AND recipient_id = :r",
        r=a.buyer_id,
    )
    assert survey["due_at"] > utcnow() + timedelta(hours=23)  # a day after delivery
    survey_path = next(w for w in survey["body"].split() if "/surveys/" in w).split(
        "/api/v1/notifications"
    )[1]
    async with client(app) as http:
        answer = await http.post(survey_path, json={"metric": "nps", "score": 9})
        assert answer.status_code == 200, answer.text
        again = await http.post(survey_path, json={"metric": "nps", "score": 10})
        assert again.json()["score"] == 10
        assert (
            await http.post(survey_path, json={"metric": "csat", "score": 9})
        ).status_code == 422
        assert (await http.post("/surveys/forged.token", json={"score": 1})).status_code == 404
    scores = await rows(app, "SELECT user_id, subject, score FROM survey_responses")
    assert scores == [{"user_id": a.buyer_id, "subject": f"order={order_id}", "score": 10}]
    published = await rows(
        app, "SELECT payload FROM outbox WHERE type = 'com.b2b.survey.answered.v1' ORDER BY seq"
    )
    assert [(p["payload"]["data"]["metric"], p["payload"]["data"]["score"]) for p in published] == [
        ("nps", 9),
        ("nps", 10),
    ]  # for analytics' NPS per touchpoint

    unsubscribe = next(w for w in survey["body"].split() if "/unsubscribe/" in w).split(
        "/api/v1/notifications"
    )[1]
    async with client(app) as http:
        done = await http.post(unsubscribe)
        assert done.json() == {"kind": "surveys", "channel": "email", "enabled": False}
    await apply(app, order_delivered(a.id, "ORD-8"))
    later = await rows(
        app,
        "SELECT status FROM messages WHERE rule_code = 'survey.delivery' AND recipient_id = :r "
        "ORDER BY created_at",
        r=a.buyer_id,
    )
    assert [r["status"] for r in later] == ["pending", "suppressed"]


async def test_a_scheduled_reminder_is_cancelled_by_the_answer(start_app):
    app = await start_app("notifications")
    [a] = await companies_applied(app, "Alpha LLC")
    quote_id = uuid.uuid4()
    offered = envelope(
        QuoteOfferedV1(
            quote_id=quote_id,
            company_id=a.id,
            number="Q-1",
            actor="m",
            currency="EUR",
            total_minor=5000,
            valid_until=today() + timedelta(days=10),
            revision=1,
        )
    )
    await apply(app, offered)
    waiting = await rows(
        app, "SELECT status FROM messages WHERE rule_code = 'quote.expiring.email'"
    )
    assert [r["status"] for r in waiting] == ["pending", "pending"]
    from shared.contracts.orders import QuoteAcceptedV1

    await apply(
        app,
        envelope(
            QuoteAcceptedV1(
                quote_id=quote_id,
                company_id=a.id,
                number="Q-1",
                actor="u",
                revision=1,
                order_id=uuid.uuid4(),
                total_minor=5000,
            )
        ),
    )
    after = await rows(app, "SELECT status FROM messages WHERE rule_code = 'quote.expiring.email'")
    assert [r["status"] for r in after] == ["cancelled", "cancelled"]


# What JSON Schema's `format: time` means: RFC 3339 full-time, whose offset is required.
FULL_TIME = re.compile(r"^[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$", re.I)


def conforms(value: str, schema: dict) -> bool:
    texts = [s for s in schema.get("anyOf", [schema]) if s.get("type") == "string"]
    assert texts, schema
    text = texts[0]
    if text.get("format") == "time" and not FULL_TIME.match(value):
        return False
    return "pattern" not in text or re.search(text["pattern"], value) is not None


async def test_quiet_hours_are_answered_as_their_own_schema_describes_them(start_app):
    app = await start_app("notifications")
    me = as_role(Role.BUYER, company_id=uuid.uuid4(), subject=uuid.uuid4())
    async with client(app, me) as http:
        put = await http.put(
            "/preferences/me",
            json={"timezone": "Europe/Moscow", "quiet_from": "22:00", "quiet_to": "07:30"},
        )
        with_offset = await http.put("/preferences/me", json={"quiet_from": "22:00+03:00"})
        mine = (await http.get("/preferences/me")).json()
    assert put.status_code == 200, put.text
    properties = app.openapi()["components"]["schemas"]["MyPreferences"]["properties"]
    assert (mine["quiet_from"], mine["quiet_to"]) == ("22:00:00", "07:30:00")
    for field in ("quiet_from", "quiet_to"):
        assert conforms(mine[field], properties[field]), (mine[field], properties[field])
    # A wall-clock time in a zone given apart takes no offset: it would be wrong half the year.
    assert with_offset.status_code == 422
    assert [e["field"] for e in with_offset.json()["errors"]] == ["quiet_from"]
