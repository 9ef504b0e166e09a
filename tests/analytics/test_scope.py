"""Whose analytics a caller reaches (`shared.scope`): a sales manager its assigned clients, the
head of sales, pricing managers and admins every client; another's is 404 as an unknown client
and a refused write changes nothing. The list of clients is narrowed rather than refused. A
client's own people see their profile without the seller's cost, margin or internal labels."""

from __future__ import annotations

import uuid

import pytest

from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.analytics.world import ADMIN, company, deliver, placed, product
from tests.reach import refused, snapshot

OLGA, IVAN = uuid.uuid4(), uuid.uuid4()
TABLES = ("sales_plans", "upsell_offers", "key_account_marks")
INTERNAL = {"margin_minor", "margin_share", "margin_by_year", "abc_margin_minor", "ltv_minor"}


@pytest.fixture
async def world(start_app):
    """Olga's client and Ivan's, each with orders at a known cost, their segments computed."""
    app = await start_app("analytics", recompute_interval_seconds=0)
    mine, theirs = company(manager=OLGA), company(manager=IVAN)
    await deliver(app, mine, theirs, product("SKU-1", "glue"))
    for c in (mine, theirs):
        await deliver(app, *(placed(c.company_id, d, cost=600) for d in (10, 40, 70, 100)))
    async with client(app, ADMIN) as http:
        assert (await http.post("/recompute")).status_code == 200
    return app, mine.company_id, theirs.company_id


async def calls(app, headers, client_id) -> list:
    base = f"/clients/{client_id}"
    offer = {"offers": [{"client_id": str(client_id), "kind": "cross_sell", "sku": "SKU-2"}]}
    async with client(app, headers) as http:
        return [
            await http.get(f"{base}/profile"),
            await http.get(f"{base}/cross-sell"),
            await http.get(f"{base}/reorder"),
            await http.get(f"{base}/plan-vs-fact", params={"from": "2026-01", "to": "2026-02"}),
            await http.put(f"{base}/plans/2026-03", json={"plan_minor": 9000, "currency": "EUR"}),
            await http.post("/sales/offers", json=offer),
            await http.put(f"/sales/key-accounts/{client_id}", json={"criteria": ["strategic"]}),
        ]


async def test_a_sales_manager_reaches_only_its_clients_and_a_refusal_changes_nothing(world):
    app, mine, theirs = world
    olga = as_role(Role.SALES_MANAGER, subject=OLGA)
    before = await snapshot(app, *TABLES)
    assert all(refused(answer) for answer in await calls(app, olga, theirs))
    assert await snapshot(app, *TABLES) == before
    assert [a.status_code for a in await calls(app, olga, mine)] == [200] * 4 + [200, 201, 200]
    async with client(app, olga) as http:
        listed = (await http.get("/segments/clients")).json()["items"]
        queue = await http.get(f"/managers/{IVAN}/work-queue")
    assert [c["client_id"] for c in listed] == [str(mine)]
    assert refused(queue)


@pytest.mark.parametrize("role", [Role.HEAD_OF_SALES, Role.ADMIN])
async def test_the_head_of_sales_and_admins_reach_every_client(world, role):
    app, mine, theirs = world
    headers = as_role(role)
    for client_id in (mine, theirs):
        assert [a.status_code for a in await calls(app, headers, client_id)] == (
            [200] * 4 + [200, 201, 200]
        )
    async with client(app, headers) as http:
        listed = (await http.get("/segments/clients")).json()["items"]
        queue = await http.get(f"/managers/{IVAN}/work-queue")
    assert {c["client_id"] for c in listed} == {str(mine), str(theirs)}
    assert queue.status_code == 200


async def test_a_pricing_manager_reads_every_clients_profile(world):
    app, mine, theirs = world
    async with client(app, as_role(Role.PRICING_MANAGER)) as http:
        for client_id in (mine, theirs):
            profile = await http.get(f"/clients/{client_id}/profile")
            assert profile.status_code == 200
            assert profile.json()["metrics"]["margin_share"] == pytest.approx(0.4)
        assert len((await http.get("/segments/clients")).json()["items"]) == 2


async def test_a_buyer_sees_its_profile_without_cost_margin_or_internal_labels(world):
    app, mine, _ = world
    async with client(app, as_role(Role.BUYER, company_id=mine)) as http:
        own = (await http.get(f"/clients/{mine}/profile")).json()
    async with client(app, as_role(Role.SALES_MANAGER, subject=OLGA)) as http:
        staff = (await http.get(f"/clients/{mine}/profile")).json()
    assert set(staff["metrics"]) >= INTERNAL and staff["metrics"]["margin_minor"] == 1600
    assert staff["segments"]["abc_margin"] is not None and "churn" in staff
    assert not INTERNAL & set(own["metrics"])
    assert "margin" not in str(own) and "cost" not in str(own)
    assert set(own["segments"]) == {"regularity", "ladder"} and "churn" not in own
    assert (own["metrics"]["orders"], own["metrics"]["revenue_minor"]) == (4, 4000)
