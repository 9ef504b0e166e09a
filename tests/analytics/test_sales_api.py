"""The /sales views from events: a client crossing 10 % (key) and 20 % (a concentration
alert), a manager over the key-account limit, the pipeline, add-ons, loss reasons, plans; a
sales manager sees only its clients, the head of sales everyone, a buyer nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.analytics.usecases.recompute import recompute_all
from shared.auth import Role
from shared.contracts.accounts import CompanyStageChangedV1
from shared.contracts.orders import OrderClaimRecordedV1
from shared.testing.fixtures import as_role, client
from tests.analytics.world import NOW, company, deliver, outbox, placed, sql
from tests.events import cancellation_of

HEAD = as_role(Role.HEAD_OF_SALES)


@pytest.fixture
async def analytics(start_app):
    return await start_app("analytics", recompute_interval_seconds=0)


async def recompute(app):
    async with app.state.sessionmaker() as session, session.begin():
        return await recompute_all(session, app.state.settings)


def order(c, total: int, days_ago: float = 5, **extra):
    return placed(c.company_id, days_ago, {"SKU-1": ("1", total)}).model_copy(update=extra)


async def test_a_client_crossing_10_and_then_20_percent_becomes_key_and_raises_one_alert(
    analytics,
):
    m1 = uuid.uuid4()
    big, mid, low, rising = (company(manager=m1) for _ in range(4))
    await deliver(analytics, big, mid, low, rising)
    await deliver(
        analytics,
        order(big, 4000),  # 40 %: past 30
        order(mid, 3000),  # 30 %: past 20
        order(low, 2000),  # 20 %: no level (over, not at)
        order(rising, 1000),  # 10 %: not key yet
    )
    await recompute(analytics)
    alerts = {a["client_id"]: a["level"] for a in await outbox(analytics, "concentration_alert")}
    assert alerts == {str(big.company_id): 0.3, str(mid.company_id): 0.2}
    async with client(analytics, HEAD) as http:
        keys = (await http.get("/sales/key-accounts")).json()
        assert str(rising.company_id) not in {c["client_id"] for c in keys["clients"]}

    await deliver(analytics, order(rising, 500))
    await recompute(analytics)  # 1500 / 10500 = 14.3 %: key, still under 20
    async with client(analytics, HEAD) as http:
        keys = (await http.get("/sales/key-accounts")).json()
    share = {c["client_id"]: c["share"] for c in keys["clients"]}
    assert share[str(rising.company_id)] == 0.1429
    assert len(await outbox(analytics, "concentration_alert")) == 2
    # four key clients with one manager: over the default limit of 3
    assert keys["managers"] == [
        {"manager_id": str(m1), "key_accounts": 4, "limit": 3, "over_limit": True}
    ]

    # the event moves the base's total by 9.5 %: the statistics are recomputed, 2500 / 11500
    await deliver(analytics, order(rising, 1000))
    alerts = await outbox(analytics, "concentration_alert")
    assert len(alerts) == 3
    assert (alerts[-1]["client_id"], alerts[-1]["level"], alerts[-1]["previous_level"]) == (
        str(rising.company_id),
        0.2,
        None,
    )
    assert round(alerts[-1]["share"], 4) == 0.2174
    assert alerts[-1]["sales_manager_id"] == str(m1)
    await recompute(analytics)  # the same 21.7 %: the same level, no second alert
    assert len(await outbox(analytics, "concentration_alert")) == 3


async def test_a_sales_manager_sees_only_its_clients_and_a_buyer_nothing(analytics):
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    a, b = company(manager=mine), company(manager=theirs)
    await deliver(analytics, a, b, order(a, 1000), order(b, 3000))
    await recompute(analytics)
    manager = as_role(Role.SALES_MANAGER, subject=mine)
    async with client(analytics, manager) as http:
        keys = (await http.get("/sales/key-accounts")).json()
        assert [c["client_id"] for c in keys["clients"]] == [str(a.company_id)]
        team = (await http.get("/sales/team", params={"currency": "EUR"})).json()
        assert [t["manager_id"] for t in team] == [str(mine)]
        assert team[0]["revenue_minor"] == 1000
        # another manager's client cannot be marked key
        marked = await http.put(
            f"/sales/key-accounts/{b.company_id}", json={"criteria": ["innovator"]}
        )
        assert marked.status_code == 404
        refused = await http.put(
            f"/sales/plans/{mine}/2026-11", json={"plan_minor": 1, "currency": "EUR"}
        )
        assert refused.status_code == 403
    async with client(analytics, HEAD) as http:
        team = (await http.get("/sales/team", params={"currency": "EUR"})).json()
        assert {t["manager_id"] for t in team} == {str(mine), str(theirs)}
    buyer = as_role(Role.BUYER, company_id=a.company_id)
    async with client(analytics, buyer) as http:
        for path in ("/sales/key-accounts", "/sales/pipeline", "/sales/churn-reasons"):
            answer = await http.get(path)
            assert answer.status_code == 403, path
            assert answer.headers["content-type"] == "application/problem+json"


async def test_plans_marks_and_the_team_against_them(analytics):
    m = uuid.uuid4()
    a = company(manager=m)
    await deliver(analytics, a, order(a, 3000, days_ago=0, on_behalf=True, placed_by=str(m)))
    month = NOW.strftime("%Y-%m")
    async with client(analytics, HEAD) as http:
        bad = await http.put(
            f"/sales/plans/{m}/{month}", json={"plan_minor": -1, "currency": "EUR"}
        )
        assert bad.status_code == 422
        assert "plan_minor" in bad.text
        put = await http.put(
            f"/sales/plans/{m}/{month}", json={"plan_minor": 6000, "currency": "EUR"}
        )
        assert put.status_code == 200
        await http.put(f"/sales/team/{m}", json={"name": "Olga", "department": "north"})
        marked = await http.put(
            f"/sales/key-accounts/{a.company_id}", json={"criteria": ["reputation", "potential"]}
        )
        assert marked.status_code == 200
        first = NOW.replace(day=1).date().isoformat()
        (row,) = (await http.get("/sales/team", params={"currency": "EUR", "from": first})).json()
    assert (row["name"], row["department"], row["orders_on_behalf"]) == ("Olga", "north", 1)
    assert (row["plan_minor"], row["fact_minor"], row["completion"]) == (6000, 3000, 0.5)
    assert await sql(analytics, "SELECT criteria FROM key_account_marks") == [
        (["potential", "reputation"],)
    ]


async def test_pipeline_conversion_of_a_lead_that_converts(analytics):
    lead, stuck = company(), company()
    t0 = NOW - timedelta(days=30)

    def moved(c, stage, position, days, source="expo"):
        return CompanyStageChangedV1(
            company_id=c.company_id,
            source=source,
            from_stage=None,
            to_stage=stage,
            position=position,
            sales_manager_id=None,
            actor="system",
            changed_at=t0 + timedelta(days=days),
        )

    await deliver(
        analytics,
        lead,
        stuck,
        moved(lead, "lead", 1, 0),
        moved(lead, "first_quote", 3, 2),
        moved(lead, "first_order", 4, 7),
        moved(stuck, "lead", 1, 1, source="web"),
        placed(lead.company_id, 23),
    )
    async with client(analytics, HEAD) as http:
        (everyone,) = (await http.get("/sales/pipeline")).json()
        by_source = (await http.get("/sales/pipeline", params={"by": "source"})).json()
        funnels = (await http.get("/sales/funnels", params={"currency": "EUR"})).json()
    first = everyone["stages"][0]
    assert (first["stage"], first["reached"], first["converted"], first["conversion"]) == (
        "lead",
        2,
        1,
        0.5,
    )
    assert everyone["stages"][1]["median_days_to_next"] == 5.0
    assert {g["group"]: g["stages"][0]["conversion"] for g in by_source} == {
        "expo": 1.0,
        "web": 0.0,
    }
    assert funnels["client"] == {
        "leads": 2,
        "first_orders": 1,
        "conversion": 0.5,
        "median_days_to_first_order": 7.0,
    }


async def test_add_ons_inside_the_window_are_not_repeat_deals(analytics):
    c = company()
    first = placed(c.company_id, 30)
    inside = placed(c.company_id, 25).model_copy(update={"adds_to_order_id": first.order_id})
    outside = placed(c.company_id, 5).model_copy(update={"adds_to_order_id": first.order_id})
    await deliver(analytics, c, first, inside, outside)
    start = (NOW - timedelta(days=40)).date().isoformat()
    async with client(analytics, HEAD) as http:
        got = (
            await http.get("/sales/repeat-deals", params={"currency": "EUR", "from": start})
        ).json()
    assert (got["orders"], got["deals"], got["add_ons"], got["repeat_deals"]) == (3, 2, 1, 1)
    assert got["repeat_orders_counted_naively"] == 2
    assert got["days_between_deals"]["median"] == 25.0


async def test_loss_reasons_from_cancellations_and_claims_by_manager(analytics):
    m = uuid.uuid4()
    c = company(manager=m)
    o = placed(c.company_id, 3)
    cancel = cancellation_of(o, NOW, reason="too dear", reason_code="price")
    claim = OrderClaimRecordedV1(
        order_id=o.order_id,
        company_id=c.company_id,
        claim_id=uuid.uuid4(),
        number="SO-1",
        kind="return",
        reason_code="product",
        currency="EUR",
        recorded_by="u",
        recorded_at=NOW,
    )
    await deliver(analytics, c, o, cancel, cancel, claim)
    async with client(analytics, as_role(Role.SALES_MANAGER, subject=m)) as http:
        got = (await http.get("/sales/churn-reasons", params={"by": "manager"})).json()
    assert [(r["group"], r["reason_code"], r["count"]) for r in got] == [
        (str(m), "price", 1),
        (str(m), "product", 1),
    ]
    async with client(analytics, as_role(Role.SALES_MANAGER)) as http:
        assert (await http.get("/sales/churn-reasons")).json() == []
