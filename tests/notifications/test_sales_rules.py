"""Sales rules (their templates and validity are checked with the others in test_domain): a
concentration alert that analytics raises reaches the head of sales through
the real broker; a departing key client's manager gets a win-back task; the churn questionnaire
link records the answer once per person and publishes it for analytics."""

from __future__ import annotations

import uuid

from services.analytics.events import CONSUMERS as ANALYTICS_CONSUMERS
from shared.clock import utcnow
from shared.contracts.analytics import CLIENT_TOPIC
from shared.contracts.orders import OrderedLine, OrderPlacedV1
from shared.events.envelope import CloudEvent
from shared.testing.fixtures import client
from tests.events import consumer_of
from tests.notifications.world import (
    applied,
    apply,
    company_events,
    envelope,
    eventually,
    person,
    publish,
    rows,
)


async def test_a_client_passing_a_concentration_level_reaches_the_head_of_sales_by_the_broker(
    start_app, kafka_bootstrap, notifications_settings
):
    analytics = await start_app(
        "analytics", run_workers=True, from_now=True, recompute_interval_seconds=0
    )
    app = await start_app("notifications", **notifications_settings)
    head, admin = uuid.uuid4(), uuid.uuid4()
    company, people = company_events("Alpha LLC")
    staff = [
        envelope(person(head, "head@example.com", staff="head_of_sales")),
        envelope(person(admin, "admin@example.com", staff="admin")),
    ]
    await publish(kafka_bootstrap, *people, *staff)
    await applied(app, people + staff)
    order = OrderPlacedV1(
        order_id=uuid.uuid4(),
        company_id=company.id,
        currency="EUR",
        # Earlier tests' orders may still be on the broker and reach this analytics too: this
        # one outweighs them all, so the client passes the top level whatever else counts.
        total_minor=10**12,
        placed_at=utcnow(),
        lines=[
            OrderedLine(
                sku="S", quantity=1, unit_price_minor=10**12, list_price_minor=None, rule="base"
            )
        ],
    )
    # analytics' own consumer takes the order from the broker; its relay publishes the alert
    await publish(kafka_bootstrap, envelope(order))

    async def alerted():
        found = await rows(
            app,
            "SELECT rule_code, recipient_id, channel, subject FROM messages "
            "WHERE event_type = 'client.concentration_alert.v1' AND company_id = :c "
            "ORDER BY channel",
            c=company.id,
        )
        return found if len(found) == 2 else None

    found = await eventually(alerted, within=60)
    assert [(m["rule_code"], m["recipient_id"], m["channel"]) for m in found] == [
        ("sales.concentration.head", head, "email"),
        ("sales.concentration.inbox", head, "inbox"),
    ]
    assert "Alpha LLC" in found[0]["subject"]
    facts = await rows(
        analytics, "SELECT count(*) AS n FROM order_facts WHERE client_id = :c", c=company.id
    )
    assert facts == [{"n": 1}]


async def test_a_leaving_key_client_gets_a_questionnaire_and_its_manager_a_win_back_task(
    start_app, notifications_settings
):
    app = await start_app("notifications", **notifications_settings)
    company, people = company_events("Beta LLC")
    await apply(app, *people)

    def churn(key_account: bool):
        return envelope(
            event_type="client.churn_risk_raised.v1",
            topic=CLIENT_TOPIC,
            data={
                "client_id": str(company.id),
                "score": 70,
                "reason": "no order for 70 days",
                "days_since_last_order": 70,
                "usual_gap_days": 30,
                "key_account": key_account,
                "raised_at": utcnow().isoformat(),
            },
        )

    await apply(app, churn(True), churn(False))
    made = await rows(
        app,
        "SELECT rule_code, recipient_id, body FROM messages WHERE rule_code IN "
        "('churn.questionnaire', 'churn.winback.key') ORDER BY created_at, rule_code",
    )
    # a win-back task only for the key client's event; the questionnaire for both
    assert sorted((m["rule_code"], m["recipient_id"]) for m in made) == [
        ("churn.questionnaire", company.admin_id),
        ("churn.questionnaire", company.admin_id),
        ("churn.winback.key", company.manager_id),
    ]
    body = next(m["body"] for m in made if m["rule_code"] == "churn.questionnaire")
    link = next(w for w in body.split() if "/churn-surveys/" in w)
    token = link.rsplit("/", 1)[1]
    async with client(app) as http:
        bad = await http.post(f"/churn-surveys/{token}", json={"main_reason": "weather"})
        assert bad.status_code == 422 and "main_reason" in bad.text
        forged = await http.post("/churn-surveys/not-a-token", json={"main_reason": "price"})
        assert forged.status_code == 404
        for reason in ("service", "price"):
            answered = await http.post(
                f"/churn-surveys/{token}",
                json={"main_reason": reason, "service": "slow replies", "sale": "pushy"},
            )
            assert answered.status_code == 200, answered.text
    stored = await rows(app, "SELECT user_id, main_reason FROM churn_survey_responses")
    assert stored == [{"user_id": company.admin_id, "main_reason": "price"}]
    published = await rows(
        app, "SELECT payload FROM outbox WHERE type LIKE '%churn_survey.answered%' ORDER BY seq"
    )
    assert [p["payload"]["data"]["main_reason"] for p in published] == ["service", "price"]
    # analytics keeps the last answer per person as the client's reason
    analytics = await start_app("analytics", recompute_interval_seconds=0)
    consumer = consumer_of(analytics, "analytics.analytics", ANALYTICS_CONSUMERS["analytics"])
    for p in published:
        await consumer.apply(CloudEvent.model_validate(p["payload"]))
    reasons = await rows(analytics, "SELECT kind, reason_code, detail FROM loss_reasons")
    assert reasons == [
        {"kind": "survey", "reason_code": "price", "detail": "service: slow replies; sale: pushy"}
    ]
