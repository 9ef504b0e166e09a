"""The HTTP API through the ASGI app: profiles, segment lists, summary, feedback, cross-sell,
reorder lists, and who may see what."""

from __future__ import annotations

import uuid

import pytest

from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.analytics.world import (
    ADMIN,
    MANAGER,
    MANAGER_ID,
    company,
    credit,
    deliver,
    months_ago,
    outbox,
    placed,
    product,
)


@pytest.fixture
async def analytics(start_app):
    return await start_app(
        "analytics", recompute_interval_seconds=0, cross_sell_min_peers=2, reorder_min_months=3
    )


async def recompute(app):
    async with client(app, ADMIN) as http:
        answer = await http.post("/recompute")
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_profile_for_staff_and_for_the_clients_own_buyer_only(analytics):
    c = company(card={"purchase_potential_minor": 120_000, "size": "medium"}, manager=MANAGER_ID)
    await deliver(analytics, c, *(placed(c.company_id, d, cost=600) for d in (10, 40, 70, 100)))
    await deliver(analytics, credit(c.company_id, 100))
    await recompute(analytics)
    async with client(analytics, MANAGER) as http:
        staff = (await http.get(f"/clients/{c.company_id}/profile")).json()
    assert staff["segments"]["regularity"] == "regular"
    assert staff["segments"]["payment_behaviour"] == "buys_often_pays_late"
    assert staff["metrics"]["share_of_wallet"] == pytest.approx(4000 / 120_000, abs=1e-4)
    assert staff["metrics"]["margin_share"] == pytest.approx(0.4)
    assert staff["churn"]["raised"] is False and staff["size"] == "medium"
    buyer = as_role(Role.BUYER, company_id=c.company_id)
    async with client(analytics, buyer) as http:
        own = await http.get(f"/clients/{c.company_id}/profile")
        other = await http.get(f"/clients/{uuid.uuid4()}/profile")
        listing = await http.get("/segments/clients")
        summary = await http.get("/client-base/summary")
        recompute_refused = await http.post("/recompute")
    assert own.status_code == 200
    assert "churn" not in own.json() and set(own.json()["segments"]) == {"regularity", "ladder"}
    assert own.json()["segments"]["ladder"] == "regular"
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    assert (listing.status_code, summary.status_code, recompute_refused.status_code) == (
        403,
        403,
        403,
    )
    async with client(analytics, MANAGER) as http:
        assert (await http.post("/recompute")).status_code == 403
    async with client(analytics) as http:
        assert (await http.get(f"/clients/{c.company_id}/profile")).status_code == 401


async def test_segment_lists_filter_and_page_with_a_cursor(analytics):
    clients = [company(manager=MANAGER_ID) for _ in range(5)]
    await deliver(analytics, *clients)
    for c, value in zip(clients, (5000, 3000, 1000, 500, 500), strict=True):
        await deliver(analytics, placed(c.company_id, 20, {"SKU-1": ("1", value)}))
    await recompute(analytics)
    async with client(analytics, MANAGER) as http:
        first = (await http.get("/segments/clients", params={"limit": 2})).json()
        second = (
            await http.get("/segments/clients", params={"limit": 2, "cursor": first["next_cursor"]})
        ).json()
        third = (
            await http.get(
                "/segments/clients", params={"limit": 2, "cursor": second["next_cursor"]}
            )
        ).json()
        only_a = (await http.get("/segments/clients", params={"abc_revenue": "A"})).json()
        counts = (await http.get("/segments")).json()
        bad = await http.get("/segments/clients", params={"cursor": "nonsense"})
        skus = (await http.get("/segments/skus")).json()
    ids = [i["client_id"] for page in (first, second, third) for i in page["items"]]
    assert ids == sorted(str(c.company_id) for c in clients) and third["next_cursor"] is None
    assert sorted(i["revenue_minor"] for i in only_a["items"]) == [3000, 5000]
    assert {c["dimension"]: c["counts"] for c in counts}["abc_revenue"] == {"A": 2, "B": 3}
    assert bad.status_code == 422
    assert skus["items"][0]["sku"] == "SKU-1"


async def test_summary_of_the_base(analytics):
    clients = [company() for _ in range(3)]
    await deliver(analytics, *clients)
    for c in clients:
        await deliver(analytics, *(placed(c.company_id, d) for d in (5, 35, 65, 95, 125)))
    await recompute(analytics)
    async with client(analytics, ADMIN) as http:
        summary = (await http.get("/client-base/summary", params={"currency": "EUR"})).json()
    eur = summary[0]["summary"]
    assert (eur["clients"], eur["buyers"], eur["revenue_minor"]) == (3, 3, 15000)
    assert eur["regularity"] == {"regular": 3} and eur["penetration"] == 1.0
    assert eur["top1_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert eur["cohort_curve"][0] == 1.0
    assert [tp["touchpoint"] for tp in eur["satisfaction"]] == [
        "portal",
        "manager",
        "delivery",
        "product",
    ]


async def test_feedback_after_an_order_moves_an_adherent_to_advocate(analytics):
    c = company(manager=MANAGER_ID)
    days = [10 + 30 * i for i in range(13)]
    orders = [placed(c.company_id, d) for d in days]
    await deliver(analytics, c, *orders)
    buyer = as_role(Role.BUYER, company_id=c.company_id)
    async with client(analytics, buyer) as http:
        first = await http.post(
            "/feedback",
            json={"order_id": str(orders[0].order_id), "touchpoint": "manager", "nps": 10},
        )
        again = await http.post(
            "/feedback",
            json={"order_id": str(orders[0].order_id), "touchpoint": "manager", "nps": 10},
        )
        empty = await http.post("/feedback", json={"touchpoint": "portal"})
        foreign = await http.post(
            "/feedback", json={"order_id": str(uuid.uuid4()), "touchpoint": "portal", "csat": 5}
        )
    assert first.status_code == 201, first.text
    assert again.status_code == 409 and empty.status_code == 422
    assert foreign.json()["errors"][0]["field"] == "order_id"
    async with client(analytics, MANAGER) as http:
        refused = await http.post("/feedback", json={"touchpoint": "portal", "nps": 1})
        profile = (await http.get(f"/clients/{c.company_id}/profile")).json()
    assert refused.status_code == 403
    assert profile["segments"]["ladder"] == "advocate"
    ladder_changes = [
        ch
        for event in await outbox(analytics, "segment_changed")
        for ch in event["changes"]
        if ch["dimension"] == "ladder"
    ]
    assert ladder_changes[-1] == {
        "dimension": "ladder",
        "previous": "adherent",
        "current": "advocate",
    }


async def test_cross_sell_names_what_peers_buy_and_why(analytics):
    me = company(card={"size": "small"})
    peers = [company(card={"size": "small"}) for _ in range(4)]
    stranger = company(industry="food", card={"size": "small"})
    await deliver(
        analytics,
        me,
        *peers,
        stranger,
        product("GLUE-1", "glue"),
        product("PRIM-1", "primer"),
        product("PRIM-2", "primer"),
        product("TAPE-1", "tape"),
    )
    await deliver(analytics, placed(me.company_id, 5, {"GLUE-1": ("1", 100)}))
    for i, p in enumerate(peers):
        lines = {"GLUE-1": ("1", 100), "PRIM-1": ("1", 100)}
        if i < 2:
            lines["PRIM-2"] = ("1", 100)
        if i == 0:
            lines["TAPE-1"] = ("1", 100)
        await deliver(analytics, placed(p.company_id, 5, lines))
    await deliver(analytics, placed(stranger.company_id, 5, {"TAPE-1": ("1", 100)}))
    buyer = as_role(Role.BUYER, company_id=me.company_id)
    async with client(analytics, buyer) as http:
        answer = (await http.get(f"/clients/{me.company_id}/cross-sell")).json()
        foreign = await http.get(f"/clients/{peers[0].company_id}/cross-sell")
    assert foreign.status_code == 404
    assert answer["peers"] == 4
    assert [g["category"] for g in answer["gaps"]] == ["primer"]  # tape: 1 of 4 < 30 %
    gap = answer["gaps"][0]
    assert gap["reason"] == "100 % of polymers producers of your size also buy primer"
    assert [(s["sku"], s["peer_clients"]) for s in gap["skus"]] == [("PRIM-1", 4), ("PRIM-2", 2)]


async def test_reorder_list_proposes_the_predictable_skus(analytics):
    c = company(manager=MANAGER_ID)
    await deliver(analytics, c)
    for n in range(1, 7):
        lines = {"STEADY": ("10", 100), "SWING": ("8" if n % 2 else "12", 100)}
        if n == 1:
            lines["ONCE"] = ("50", 100)
        if n % 3 == 0:
            lines["RARE"] = ("5", 100)
        await deliver(analytics, placed(c.company_id, 0, lines, at=months_ago(n)))
    async with client(analytics, MANAGER) as http:
        answer = (await http.get(f"/clients/{c.company_id}/reorder")).json()
    assert [(li["sku"], li["xyz"]) for li in answer["lines"]] == [("STEADY", "X"), ("SWING", "Y")]
    assert answer["lines"][0]["average_monthly_quantity"] == "10.000"
    assert answer["lines"][0]["quantity"] == "9.857"  # 10 a month for 30 of 30.4375 days


async def test_a_managers_work_queue_lists_clients_needing_action_with_reasons(analytics):
    manager = uuid.uuid4()
    silent, owing, fine = (company(manager=manager) for _ in range(3))
    others = company(manager=uuid.uuid4())
    await deliver(analytics, silent, owing, fine, others)
    await deliver(analytics, *(placed(silent.company_id, d) for d in (100, 130, 160, 190)))
    await deliver(analytics, *(placed(owing.company_id, d) for d in (3, 20, 40)))
    await deliver(analytics, *(placed(fine.company_id, d) for d in (3, 33, 63)))
    await deliver(analytics, *(placed(others.company_id, d) for d in (100, 130, 160, 190)))
    await deliver(analytics, credit(owing.company_id, 25_000))
    own = as_role(Role.SALES_MANAGER, subject=manager)
    async with client(analytics, own) as http:
        queue = (await http.get(f"/managers/{manager}/work-queue")).json()
    assert [i["client_id"] for i in queue] == [str(silent.company_id), str(owing.company_id)]
    assert queue[0]["reasons"][0]["kind"] == "churn_risk"
    assert "no order for 100 days" in queue[0]["reasons"][0]["detail"]
    assert queue[1]["reasons"] == [
        {"kind": "overdue", "detail": "overdue €250.00 while buying often"}
    ]
    async with client(analytics, MANAGER) as http:  # another manager
        assert (await http.get(f"/managers/{manager}/work-queue")).status_code == 404
    async with client(analytics, ADMIN) as http:
        assert len((await http.get(f"/managers/{manager}/work-queue")).json()) == 2
    async with client(analytics, as_role(Role.BUYER, company_id=silent.company_id)) as http:
        assert (await http.get(f"/managers/{manager}/work-queue")).status_code == 403
