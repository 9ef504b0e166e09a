"""Slips are told: ERP moving a promised date later, or a window ending with the order not
delivered, sends `order.delayed` once (however often ERP repeats itself or the check runs, in
however many processes), and the delivery counts as late."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta

from shared.clock import moved_to, today, utcnow
from shared.contracts.orders import OrderDelayedV1
from tests.orders.test_checkout import count
from tests.orders.test_lifecycle import erp_updates, outbox_payloads, place
from tests.orders.world import outbox_types

# One pass of the missed-window check in a process of its own, on the orders database.
CHECK_IN_A_PROCESS = """
import asyncio, sys
from shared.db import create_engine, create_sessionmaker
from services.orders.usecases.delays import tell_missed_windows

async def main():
    engine = create_engine(sys.argv[1])
    try:
        print(await tell_missed_windows(create_sessionmaker(engine, service="orders")))
    finally:
        await engine.dispose()

asyncio.run(main())
"""


async def delays(shop) -> list[OrderDelayedV1]:
    return [OrderDelayedV1.model_validate(d) for d in await outbox_payloads(shop.orders, "delayed")]


def update(number, status, at, **more):
    return {"order": number, "status": status, "at": at, **more}


async def test_a_later_date_from_erp_is_told_once_and_the_delivery_counts_as_late(shop):
    order = await place(shop)
    number = order["number"]
    promised = update(
        number,
        "confirmed",
        "2026-11-23T08:00:00Z",
        promised_from="2026-11-24",
        promised_to="2026-11-25",
    )
    assert (await erp_updates(shop, [promised])).json()["applied"] == 1
    assert await delays(shop) == []  # a first promise is no delay

    slip = update(
        number,
        "confirmed",
        "2026-11-24T10:00:00Z",
        promised_from="2026-11-27",
        promised_to="2026-11-28",
        delay_reason="The rolling mill stopped for repairs",
    )
    first = await erp_updates(shop, [slip])
    assert first.json() == {"applied": 1, "unchanged": 0, "rejected": []}
    again = await erp_updates(shop, [slip])  # ERP sends it again after a timeout
    assert again.json() == {"applied": 0, "unchanged": 1, "rejected": []}
    earlier = await erp_updates(shop, [{**slip, "promised_to": "2026-11-27"}])
    assert earlier.json()["applied"] == 0  # an earlier date is no delay

    [told] = await delays(shop)
    assert (told.number, told.company_id, str(told.order_id)) == (
        number,
        shop.company_id,
        order["id"],
    )
    assert (told.reason, str(told.previous_promised_to), str(told.promised_to)) == (
        "date_moved",
        "2026-11-25",
        "2026-11-28",
    )
    assert str(told.promised_from) == "2026-11-27"
    assert told.note == "The rolling mill stopped for repairs"
    assert told.delayed_at.isoformat() == "2026-11-24T10:00:00+00:00"

    # Delivered by the date it holds now, after the one first promised: late all the same;
    # another order delivered within a window never moved is on time.
    kept = await place(shop, {"KN-100": "10"}, name="Kept")
    delivered = await erp_updates(
        shop,
        [
            update(number, "delivered", "2026-11-27T15:00:00Z"),
            update(kept["number"], "confirmed", "2026-11-23T08:00:00Z", promised_to="2026-11-28"),
            update(kept["number"], "delivered", "2026-11-27T15:00:00Z"),
        ],
    )
    assert delivered.json()["applied"] == 3
    otif = {d["number"]: d["on_time"] for d in await outbox_payloads(shop.orders, "delivered")}
    assert otif == {number: False, kept["number"]: True}
    assert await outbox_types(shop.orders) == [
        "order.placed",
        "order.confirmed",
        "order.delayed",
        "order.placed",
        "order.delivered",
        "order.confirmed",
        "order.delivered",
    ]


async def promise(shop, number, days_from_today):
    due = today() + timedelta(days=days_from_today)
    at = utcnow().isoformat()
    answer = await erp_updates(shop, [update(number, "confirmed", at, promised_to=due.isoformat())])
    assert answer.json()["applied"] == 1, answer.text
    return due


async def check(shop, days_later: int) -> int:
    """One pass of the worker's step with the clock `days_later` days ahead."""
    from services.orders.workers import missed_windows_once

    with moved_to(utcnow() + timedelta(days=days_later)):
        return await missed_windows_once(shop.orders)


async def test_a_missed_window_is_told_once_however_often_the_check_runs(shop):
    late = await place(shop, name="Late")
    on_time = await place(shop, {"KN-100": "10"}, name="On time")
    far = await place(shop, {"KN-100": "20"}, name="Far")
    due = await promise(shop, late["number"], 1)
    await promise(shop, on_time["number"], 1)
    await promise(shop, far["number"], 10)
    delivered = await erp_updates(
        shop, [update(on_time["number"], "delivered", utcnow().isoformat())]
    )
    assert delivered.json()["applied"] == 1

    assert await check(shop, 1) == 0  # the last day of the window is still in it
    assert await check(shop, 2) == 1
    assert await check(shop, 2) == 0
    twice = await asyncio.gather(check(shop, 3), check(shop, 3))
    assert twice == [0, 0]
    [told] = await delays(shop)
    assert (told.number, told.reason, told.previous_promised_to) == (
        late["number"],
        "window_missed",
        due,
    )
    assert told.promised_to is None

    # ERP gives a new date: a slip of its own; that window missed too is told once more.
    new_due = await promise(shop, late["number"], 5)
    assert [d.reason for d in await delays(shop)] == ["window_missed", "date_moved"]
    assert await check(shop, 6) == 1
    assert await check(shop, 7) == 0
    missed = [d.previous_promised_to for d in await delays(shop) if d.reason == "window_missed"]
    assert missed == [due, new_due]


async def test_a_missed_window_is_told_once_when_two_processes_check_at_once(shop):
    orders = [await place(shop, name=f"Cart {n}") for n in range(3)]
    for order in orders:
        await promise(shop, order["number"], 1)
    env = {**os.environ, "B2B_CLOCK": (utcnow() + timedelta(days=3)).isoformat()}
    url = shop.orders.state.settings.database_url

    async def one_process() -> int:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CHECK_IN_A_PROCESS,
            url,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        return int(out.decode().strip().splitlines()[-1])

    told = await asyncio.gather(*(one_process() for _ in range(2)))
    assert sum(told) == 3
    assert sorted(d.number for d in await delays(shop)) == sorted(o["number"] for o in orders)
    assert await count(shop.orders, "order_delays") == 3
    assert await one_process() == 0


async def test_a_bad_date_or_a_reason_too_long_is_refused_naming_row_and_field(shop):
    order = await place(shop)
    number = order["number"]
    confirmed = await erp_updates(
        shop, [update(number, "confirmed", "2026-11-23T08:00:00Z", promised_to="2026-11-25")]
    )
    assert confirmed.json()["applied"] == 1
    refused = await erp_updates(
        shop,
        [
            update(number, "confirmed", "2026-11-24T08:00:00Z", promised_to="next Tuesday"),
            update(
                number,
                "confirmed",
                "2026-11-24T09:00:00Z",
                promised_to="2026-11-28",
                delay_reason="x" * 501,
            ),
        ],
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [(e["row"], e["field"]) for e in refused.json()["errors"]] == [
        (1, "updates[0].promised_to"),
        (2, "updates[1].delay_reason"),
    ]
    assert await delays(shop) == []
    async with shop.as_buyer() as http:
        now = (await http.get(f"/orders/{order['id']}")).json()
    assert now["promised_to"] == "2026-11-25"
