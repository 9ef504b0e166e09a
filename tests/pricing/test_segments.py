"""Segment-driven assignment: a client.segment_changed on the real broker moves a client to
another price list and gives it a timed discount, each shown in explain with its cause."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from shared.auth import Role
from shared.clock import utcnow
from shared.contracts.analytics import ClientSegmentChangedV1, SegmentChange
from shared.testing.fixtures import as_role, client
from tests.pricing.world import (
    ADMIN,
    add_list,
    feed,
    publish,
    seed_client,
    seed_skus,
)

HEADER = "list,client,sku,min_qty,price_minor,currency,valid_from,valid_to,action\n"
PRICING_MANAGER = as_role(Role.PRICING_MANAGER)


def moved(company_id: uuid.UUID, **dimensions: tuple[str | None, str | None]):
    return ClientSegmentChangedV1(
        client_id=company_id,
        changes=[
            SegmentChange(dimension=d, previous=p, current=c) for d, (p, c) in dimensions.items()
        ],
        changed_at=utcnow(),
    )


def list_rule(code: str, list_code: str, **conditions: str) -> dict:
    """A segment rule giving the clients in every one of `conditions` the list `list_code`."""
    return {
        "code": code,
        "conditions": conditions,
        "action": "price_list",
        "price_list_code": list_code,
    }


async def explain(app, company_id, sku: str) -> dict:
    async with client(app, ADMIN) as http:
        answer = await http.get(
            "/prices/explain", params={"client_id": str(company_id), "sku": sku}
        )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def eventually(app, company_id, sku: str, check) -> dict:
    async with asyncio.timeout(60):
        while True:
            app.state.price_engine.invalidate(lists=False, clients=[company_id])
            found = await explain(app, company_id, sku)
            if check(found):
                return found
            await asyncio.sleep(0.2)


async def test_a_segment_change_on_the_broker_moves_the_client_to_the_key_accounts_list(
    start_app, kafka_bootstrap
):
    app = await start_app("pricing", run_workers=True, from_now=True)
    await seed_skus(app, [("S1", "Knauf", "boards")])
    await add_list(app, "BASE", base=True)
    await add_list(app, "KEY", priority=10)
    acme = await seed_client(app, external_id="ACME")
    prices = HEADER + "BASE,,S1,1,1000,EUR,,,\nKEY,,S1,1,900,EUR,,,\n"
    assert (await feed(app, prices))["state"] == "succeeded"
    async with client(app, as_role(Role.SALES_MANAGER)) as http:
        refused = await http.post("/segment-rules", json=list_rule("key", "KEY", abc_revenue="A"))
    assert refused.status_code == 403
    async with client(app, PRICING_MANAGER) as http:
        bad = await http.post("/segment-rules", json=list_rule("x", "NOPE", abc_revenue="A"))
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "price_list_code"
        for rule in (
            list_rule("key-accounts", "KEY", abc_revenue="A", regularity="regular"),
            {
                "code": "retention",
                "conditions": {"churn_risk": "high"},
                "action": "discount",
                "discount": {"scope": "brand", "value": "Knauf", "percent": "5"},
                "duration_days": 60,
            },
        ):
            created = await http.post("/segment-rules", json=rule)
            assert created.status_code == 201, created.text
    assert (await explain(app, acme, "S1"))["rule"] == "base_list:BASE"

    await publish(
        kafka_bootstrap,
        (moved(acme, abc_revenue=("B", "A"), regularity=(None, "regular")), "analytics"),
    )
    found = await eventually(app, acme, "S1", lambda e: e["rule"] == "assigned_list:KEY")
    assert found["unit_price_minor"] == 900
    [assignment] = found["segment_assignments"]
    assert assignment["rule"] == "key-accounts" and assignment["price_list"] == "KEY"
    assert assignment["segments"] == {"abc_revenue": "A", "regularity": "regular"}
    assert assignment["valid_to"] is None

    # Churn risk rises: a 60-day retention discount on top of the key-accounts list.
    await publish(kafka_bootstrap, (moved(acme, churn_risk=("low", "high")), "analytics"))
    found = await eventually(app, acme, "S1", lambda e: len(e["segment_assignments"]) == 2)
    assert found["unit_price_minor"] == 855  # KEY 900 less 5 %
    assert found["list_price_minor"] == 900
    retention = next(a for a in found["segment_assignments"] if a["rule"] == "retention")
    assert retention["valid_to"] == str((utcnow() + timedelta(days=60)).date())

    # It drops out of class A: the key-accounts list goes, the retention discount stays.
    await publish(kafka_bootstrap, (moved(acme, abc_revenue=("A", "B")), "analytics"))
    found = await eventually(app, acme, "S1", lambda e: len(e["segment_assignments"]) == 1)
    assert [a["rule"] for a in found["segment_assignments"]] == ["retention"]
    assert found["unit_price_minor"] == 950  # BASE 1000 less 5 %
    assert found["rule"] == "client_discount:brand:Knauf"
