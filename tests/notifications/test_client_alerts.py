"""The alerts other services publish about a client (ladder progress, contract prices ending,
price moves) reach it once, through the real broker, however often they are published."""

from __future__ import annotations

import uuid
from datetime import timedelta

from shared.clock import today
from tests.notifications.test_rules_through_the_broker import (
    expiring_event,
    ladder_event,
    price_moves_event,
)
from tests.notifications.world import (
    applied,
    companies_published,
    envelope,
    publish,
    rows,
)


async def _messages(app, rule_code: str) -> list[dict]:
    return await rows(
        app,
        "SELECT recipient_id, subject FROM messages WHERE rule_code = :code ORDER BY subject",
        code=rule_code,
    )


async def test_a_client_hears_once_per_level_period_and_end_date_not_at_every_event(
    start_app, kafka_bootstrap, notifications_settings
):
    app = await start_app("notifications", **notifications_settings)
    [a] = await companies_published(app, kafka_bootstrap, "Alpha LLC")

    ends = today() + timedelta(days=9)
    change = uuid.uuid4()
    first = [
        envelope(ladder_event(a.id, "near", 500000)),
        envelope(expiring_event(a.id, ends)),
        envelope(price_moves_event(a.id, change)),
    ]
    # New events (new ids) of the same facts: a cancelled and re-placed order near the same
    # level, the daily check finding the same end date again, the same price change re-checked.
    again = [
        envelope(ladder_event(a.id, "near", 500000)),
        envelope(expiring_event(a.id, ends)),
        envelope(price_moves_event(a.id, change)),
    ]
    # Facts that are new: the next level of the ladder, another end date, another change.
    new = [
        envelope(ladder_event(a.id, "near", 900000)),
        envelope(expiring_event(a.id, ends + timedelta(days=3))),
        envelope(price_moves_event(a.id, uuid.uuid4())),
    ]
    await publish(kafka_bootstrap, *first, *again, *new)
    await applied(app, first + again + new)

    buyers = {a.buyer_id, a.admin_id}
    near = await _messages(app, "ladder.near.email")
    assert len(near) == 2 * len(buyers)  # two levels, each once per buyer
    assert {m["recipient_id"] for m in near} == buyers
    expiring = await _messages(app, "contract.expiring.email")
    assert len(expiring) == 2 * len(buyers)
    tasks = await _messages(app, "contract.expiring.manager")
    assert [m["recipient_id"] for m in tasks] == [a.manager_id, a.manager_id]
    moved = await _messages(app, "prices.regular_changed.email")
    assert len(moved) == 2 * len(buyers)
    # a near event is not a reached one: nobody was told of a level reached
    assert await _messages(app, "ladder.reached.email") == []
