"""Plan versus fact: the manager sets a monthly plan; shipments and orders are the fact."""

from __future__ import annotations

import uuid

from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.analytics.world import (
    MANAGER,
    MANAGER_ID,
    company,
    deliver,
    delivered,
    months_ago,
    placed,
)


async def test_plan_against_shipments_and_orders_for_the_manager_and_the_client(start_app):
    app = await start_app("analytics", recompute_interval_seconds=0)
    c = company(manager=MANAGER_ID)
    partly = placed(c.company_id, 0, {"A": ("10", 100)}, at=months_ago(1, day=5))
    whole = placed(c.company_id, 0, {"B": ("1", 500)}, at=months_ago(1, day=6))
    await deliver(
        app,
        c,
        partly,
        whole,
        delivered(partly, True, False, at=months_ago(1, day=10), quantities={"A": "6"}),
        delivered(whole, True, True, at=months_ago(0, day=1)),
    )
    last, this = months_ago(1).strftime("%Y-%m"), months_ago(0).strftime("%Y-%m")
    async with client(app, MANAGER) as http:
        put = await http.put(
            f"/clients/{c.company_id}/plans/{last}", json={"plan_minor": 2000, "currency": "EUR"}
        )
        bad_month = await http.put(
            f"/clients/{c.company_id}/plans/2026-13", json={"plan_minor": 1, "currency": "EUR"}
        )
    assert put.status_code == 200, put.text
    assert bad_month.status_code == 422
    buyer = as_role(Role.BUYER, company_id=c.company_id)
    async with client(app, buyer) as http:
        answer = await http.get(
            f"/clients/{c.company_id}/plan-vs-fact", params={"from": last, "to": this}
        )
        refused = await http.put(
            f"/clients/{c.company_id}/plans/{last}", json={"plan_minor": 1, "currency": "EUR"}
        )
        foreign = await http.get(
            f"/clients/{uuid.uuid4()}/plan-vs-fact", params={"from": last, "to": this}
        )
        backwards = await http.get(
            f"/clients/{c.company_id}/plan-vs-fact", params={"from": this, "to": last}
        )
    assert refused.status_code == 403 and foreign.status_code == 404
    assert backwards.status_code == 422
    assert answer.json() == [
        {
            "month": last,
            "currency": "EUR",
            "plan_minor": 2000,
            "shipped_minor": 600,  # 6 of the 10 delivered
            "ordered_minor": 1500,
            "completion": 0.3,
        },
        {
            "month": this,
            "currency": "EUR",
            "plan_minor": None,
            "shipped_minor": 500,
            "ordered_minor": 0,
            "completion": None,
        },
    ]
