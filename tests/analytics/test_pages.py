"""Version 2 answers every list of analytics a page at a time: read in pages of one, a list is
version 1's bare array, in its order; a report with its own `limit` keeps it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from shared.auth import Role
from shared.contracts.accounts import CompanyStageChangedV1
from shared.testing.fixtures import as_role, client
from tests.analytics.world import (
    NOW,
    company,
    credit,
    deliver,
    placed,
    recompute_base,
)
from tests.events import cancellation_of
from tests.paging import in_pages_of_one

HEAD = as_role(Role.HEAD_OF_SALES)


def stage(c, source: str) -> CompanyStageChangedV1:
    return CompanyStageChangedV1(
        company_id=c.company_id,
        source=source,
        from_stage=None,
        to_stage="lead",
        position=1,
        sales_manager_id=None,
        actor="system",
        changed_at=NOW - timedelta(days=10),
    )


async def test_every_list_read_in_pages_of_one_is_the_version_1_array(analytics):
    m1, m2 = uuid.uuid4(), uuid.uuid4()
    silent = [company(manager=m1) for _ in range(2)]  # alike: their order is by client id
    owing = company(manager=m1, industry="metals")
    other = company(manager=m2, industry="metals")
    abroad = company(manager=m2, currency="USD")
    await deliver(analytics, *silent, owing, other, abroad)
    pair = {"A": ("1", 500), "B": ("1", 500)}
    three = {"A": ("1", 400), "B": ("1", 300), "C": ("1", 300)}
    await deliver(
        analytics, *(placed(c.company_id, d, pair) for c in silent for d in (100, 130, 160, 190))
    )
    orders = [placed(owing.company_id, d, three) for d in (3, 20, 40)]
    await deliver(
        analytics,
        *orders,
        cancellation_of(orders[1], NOW, reason="too dear", reason_code="price"),
        cancellation_of(orders[2], NOW, reason="too late", reason_code="delivery"),
        credit(owing.company_id, 25_000),
        *(placed(other.company_id, d, {"A": ("1", 500), "C": ("1", 500)}) for d in (5, 50)),
        placed(abroad.company_id, 10, currency="USD"),
        stage(owing, "expo"),
        stage(other, "web"),
    )
    await recompute_base(analytics)
    year_ago = (NOW - timedelta(days=365)).date().isoformat()
    months = {"from": (NOW - timedelta(days=62)).strftime("%Y-%m"), "to": NOW.strftime("%Y-%m")}
    lists = [
        ("/segments", {}),
        ("/client-base/summary", {}),
        (f"/clients/{owing.company_id}/plan-vs-fact", months),
        (f"/managers/{m1}/work-queue", {}),
        ("/sales/pipeline", {"by": "source"}),
        ("/sales/team", {"currency": "EUR", "from": year_ago}),
        ("/sales/churn-reasons", {"from": year_ago}),
        ("/sales/win-back", {}),
        # its own `limit` is the pairs of each segment: one each, and the page's size
        ("/sales/co-purchases", {"currency": "EUR", "from": year_ago, "segment": "industry"}),
    ]
    async with client(analytics, HEAD) as http:
        for path, params in lists:
            paged = await in_pages_of_one(http, path, params)
            v1_params = params | ({"limit": 1} if path.endswith("co-purchases") else {})
            whole = await http.get(path, params=v1_params)
            assert whole.status_code == 200, whole.text
            assert paged == whole.json(), path
            assert len(paged) >= 2, (path, paged)  # more than one page was read
        queue = (await http.get(f"/managers/{m1}/work-queue")).json()
        first_two = (await http.get(f"/managers/{m1}/work-queue", params={"limit": 2})).json()
        first = (await http.get(f"/v2/managers/{m1}/work-queue", params={"limit": 2})).json()
        forged = await http.get("/v2/segments", params={"cursor": first["next_cursor"]})
        pipeline = (await http.get("/v2/sales/pipeline", params={"by": "source"})).json()
    # the two alike by churn score, by client id; then the one owing
    assert [q["client_id"] for q in queue] == [
        *sorted(str(c.company_id) for c in silent),
        str(owing.company_id),
    ]
    assert first["items"] == first_two == queue[:2]  # version 2's first page is version 1's
    assert forged.status_code == 422  # another list's cursor
    assert forged.headers["content-type"] == "application/problem+json"
    # the last stage has no next one: its fields are left out, in a page as in version 1
    assert [set(g["stages"][-1]) for g in pipeline["items"]] == [
        {"stage", "position", "reached"}
    ] * 2
