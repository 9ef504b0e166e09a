"""A slipped promise (orders' order.delayed) reaches the client's buyers by email and its
sales manager as a task, through the real broker, once however often it is delivered, and
nobody of another company."""

from __future__ import annotations

import uuid
from datetime import date

from shared.clock import utcnow
from shared.contracts.orders import OrderDelayedV1
from tests.notifications.world import (
    applied,
    companies_published,
    envelope,
    eventually,
    publish,
    rows,
)


def delayed(company_id: uuid.UUID, number: str, **fields) -> OrderDelayedV1:
    return OrderDelayedV1(
        order_id=uuid.uuid4(),
        company_id=company_id,
        number=number,
        delayed_at=utcnow(),
        **fields,
    )


async def test_the_buyers_and_the_manager_hear_of_a_delay_once(
    start_app, kafka_bootstrap, smtp, notifications_settings
):
    smtp.start()
    app = await start_app("notifications", **notifications_settings)
    a, b = await companies_published(app, kafka_bootstrap, "Alpha LLC", "Beta LLC")
    moved = envelope(
        delayed(
            a.id,
            "SO-00000007",
            reason="date_moved",
            previous_promised_to=date(2026, 11, 25),
            promised_from=date(2026, 11, 27),
            promised_to=date(2026, 11, 28),
            note="the rolling mill stopped",
        )
    )
    missed = envelope(
        delayed(
            a.id,
            "SO-00000008",
            reason="window_missed",
            previous_promised_to=date(2026, 11, 26),
            promised_from=None,
            promised_to=None,
        )
    )
    await publish(kafka_bootstrap, moved, missed)
    await applied(app, [moved, missed])

    made = await rows(
        app,
        "SELECT rule_code, recipient_id, channel, subject, body FROM messages "
        "WHERE event_type <> 'digest' ORDER BY rule_code, subject, recipient_id",
    )
    assert {(m["rule_code"], m["recipient_id"], m["channel"]) for m in made} == {
        (rule, person, channel)
        for rule, people, channel in (
            ("order.delayed.email", (a.buyer_id, a.admin_id), "email"),
            ("order.delayed.manager", (a.manager_id,), "inbox"),
        )
        for person in people
    }
    assert len(made) == 2 * 3  # two delays, each to two buyers and the manager
    to_buyer = {m["subject"]: m["body"] for m in made if m["recipient_id"] == a.buyer_id}
    # the default locale is ru
    assert "28 нояб. 2026" in to_buyer["Заказ SO-00000007 задерживается"]
    assert "Причина: the rolling mill stopped." in to_buyer["Заказ SO-00000007 задерживается"]
    assert "не доставлен к 26 нояб. 2026" in to_buyer["Заказ SO-00000008 задерживается"]
    tasks = [m["subject"] for m in made if m["recipient_id"] == a.manager_id]
    assert tasks == [
        "Alpha LLC: заказ SO-00000007 задерживается",
        "Alpha LLC: заказ SO-00000008 задерживается",
    ]
    assert not {m["recipient_id"] for m in made} & {b.admin_id, b.buyer_id, b.manager_id}

    async def mailed():
        return len(smtp.mailbox.to(a.buyer_email)) == 2

    await eventually(mailed)

    # the broker delivers both again: nothing new is made
    duplicates = app.state.outcomes["duplicate"]
    await publish(kafka_bootstrap, moved, missed)

    async def redelivered():
        return app.state.outcomes["duplicate"] >= duplicates + 2

    await eventually(redelivered)
    again = await rows(app, "SELECT count(*) AS n FROM messages WHERE event_type <> 'digest'")
    assert again[0]["n"] == len(made)
