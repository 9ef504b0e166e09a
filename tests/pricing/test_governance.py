"""Price governance: dry runs, guardrails, approval, versions and rollback of price feeds."""

from __future__ import annotations

import asyncio

import polars as pl
import pytest

from services.pricing.events import handle_product_upserted
from shared.auth import Role
from shared.clock import utcnow
from shared.contracts.pricing import PriceVersionAppliedV1
from shared.testing.fixtures import as_role, client
from tests.pricing.world import (
    ADMIN,
    ERP,
    add_list,
    call,
    feed,
    fetch,
    floor,
    post_prices,
    product_event,
    resolve,
    run_jobs,
    seed_client,
    seed_skus,
)

HEADER = "list,client,sku,min_qty,price_minor,currency,valid_from,valid_to,action\n"
PRICING_MANAGER = as_role(Role.PRICING_MANAGER)
OTHER_PRICING_MANAGER = as_role(Role.PRICING_MANAGER)
STARTING = (
    HEADER
    + "BASE,,S1,1,1000,EUR,,,\n"
    + "BASE,,S1,10,900,EUR,,,\n"
    + "BASE,,S2,1,2000,EUR,,,\n"
    + "BASE,,S3,1,500,EUR,,,\n"
    + ",ACME,S2,1,1800,EUR,,,\n"
)
CHANGE = (
    HEADER
    + "BASE,,S1,1,1100,EUR,,,\n"  # +10 %
    + "BASE,,S1,10,,EUR,,,delete\n"  # removed
    + "BASE,,S4,1,700,EUR,,,\n"  # added
    + "BASE,,S3,1,500,EUR,,,\n"  # unchanged: no diff row
    + ",ACME,S2,1,1710,EUR,,,\n"  # -5 %
)


@pytest.fixture
async def pricing(start_app):
    app = await start_app("pricing")
    await seed_skus(app, [(f"S{i}", "Knauf", "boards") for i in range(1, 6)])
    await add_list(app, "BASE", base=True)
    acme = await seed_client(app, external_id="ACME")
    assert (await feed(app, STARTING))["state"] == "succeeded"
    app.state.acme = acme
    return app


async def guardrail(app, code: str, **limits) -> None:
    async with client(app, ADMIN) as http:
        answer = await http.put(f"/guardrails/{code}", json=limits)
    assert answer.status_code == 200, answer.text


async def stored_prices(app) -> set[tuple]:
    entries = await fetch(
        app, "SELECT 'L', list_id, sku_id, min_qty, price_minor FROM price_list_entries"
    )
    contract = await fetch(
        app, "SELECT 'C', client_id, sku_id, min_qty, price_minor FROM contract_prices"
    )
    return {tuple(r) for r in entries + contract}


async def report(app, job) -> str:
    async with client(app, ERP) as http:
        return (await http.get(job["rejections_url"].removeprefix("/api/pricing"))).text


async def test_a_dry_run_predicts_exactly_the_diff_the_real_feed_applies(pricing):
    app = pricing
    before = await stored_prices(app)
    dry = await feed(app, CHANGE, dry_run="true")
    assert (dry["state"], dry["rows_applied"], dry["result"]["dry_run"]) == ("succeeded", 0, True)
    assert await stored_prices(app) == before  # nothing changed
    predicted = dry["result"]["diff"]
    assert (predicted["rows_added"], predicted["rows_changed"], predicted["rows_removed"]) == (
        1,
        2,
        1,
    )
    assert predicted["change_percent"]["min"] == -5.0
    assert predicted["change_percent"]["max"] == 10.0
    assert predicted["top_clients"] == [{"client": "ACME", "rows": 1, "max_change_percent": 5.0}]
    async with client(app, ADMIN) as http:
        csv = (await http.get(f"/feeds/prices/{dry['id']}/diff")).text
    diff = pl.read_csv(csv.encode()).sort("sku", "min_qty")
    assert diff.select("sku", "old_price", "new_price").rows() == [
        ("S1", 1000, 1100),
        ("S1", 900, None),
        ("S2", 1800, 1710),
        ("S4", None, 700),
    ]

    real = await feed(app, CHANGE)
    assert real["state"] == "succeeded"
    assert real["result"]["diff"] == predicted
    version = real["result"]["version"]
    rows = await fetch(
        app,
        "SELECT s.sku, r.old_price, r.new_price FROM price_version_rows r JOIN skus s"
        " ON s.id = r.sku_id WHERE version_id = :v ORDER BY s.sku, r.min_qty",
        v=version,
    )
    assert [tuple(r) for r in rows] == diff.select("sku", "old_price", "new_price").rows()
    after = await stored_prices(app)
    assert len(before - after) == 3 and len(after - before) == 3  # 2 changed, 1 gone, 1 new


async def test_each_guardrail_stops_the_feed_and_names_the_rows(pricing):
    app = pricing
    async with app.state.sessionmaker() as session, session.begin():
        await handle_product_upserted(
            product_event("S3", "Knauf", "boards", cost_minor=450, cost_currency="EUR"), session
        )
    await floor(app, "S2", 1750)
    await guardrail(app, "BASE", max_row_change_percent="20", min_margin_percent="5")
    await guardrail(app, "*", max_row_change_percent="50", max_feed_change_percent="3")
    before = await stored_prices(app)
    body = (
        HEADER
        + "BASE,,S1,1,1300,EUR,,,\n"  # 1: +30 % on BASE (at most 20 %)
        + "BASE,,S3,1,460,EUR,,,\n"  # 2: margin 2.17 % over cost 450 (at least 5 %)
        + ",ACME,S2,1,1700,EUR,,,\n"  # 3: below the floor 1750; client prices -5.56 % on average
        + "BASE,,S1,10,950,EUR,,,\n"  # 4: fine
    )
    job = await feed(app, body)
    assert (job["state"], job["rows_applied"], job["rows_rejected"]) == ("rejected", 0, 3)
    assert await stored_prices(app) == before
    text = await report(app, job)
    assert (
        "1,price_minor,changes the price from 1000 by 30.0 % (at most 20.0 % on list BASE)" in text
    )
    assert (
        "2,price_minor,leaves a margin of 2.17 % over the cost 450 (at least 5.0 % on list BASE)"
        in text
    )
    assert "3,price_minor,is below the SKU's floor 1750" in text
    assert "0,feed,changes prices of client prices by 5.56 % on average (at most 3.0 %)" in text
    assert "\n4," not in text

    # A buyer, a sales manager or the ERP cannot override; a pricing manager can, with a reason.
    override = f"/feeds/prices/{job['id']}/override"
    for headers in (ERP, as_role(Role.SALES_MANAGER)):
        refused = await call(app, "POST", override, headers, json={"reason": "ERP says so"})
        assert refused.status_code == 403
    reason = {"reason": "supplier price rise"}
    overridden = await call(app, "POST", override, PRICING_MANAGER, json=reason)
    assert overridden.status_code == 200, overridden.text
    applied = await feed_job(app, job["id"])
    assert applied["state"] == "succeeded", applied
    version = await fetch(
        app,
        "SELECT override_by, override_reason FROM price_versions WHERE id = :v",
        v=applied["result"]["version"],
    )
    assert version[0].override_reason == "supplier price rise"
    assert version[0].override_by.startswith("user:")
    prices = await resolve(app, app.state.acme, [("S1", 1), ("S2", 1)])
    assert prices["S1"]["unit_price_minor"] == 1300
    assert prices["S2"]["unit_price_minor"] == 1750  # the floor still holds at resolve


async def feed_job(app, job_id: str) -> dict:
    if not app.state.settings.run_workers:
        await run_jobs(app)
    async with client(app, ADMIN) as http:
        for _ in range(200):  # or the app's own worker runs it
            job = (await http.get(f"/feeds/{job_id}")).json()
            if job["state"] not in ("queued", "validating", "applying"):
                return job
            await asyncio.sleep(0.05)
    raise AssertionError(job)


async def test_a_list_that_needs_approval_waits_for_a_second_person(pricing):
    app = pricing
    await guardrail(app, "BASE", requires_approval=True)
    before = await stored_prices(app)
    posted = await post_prices(app, HEADER + "BASE,,S1,1,1050,EUR,,,\n", headers=PRICING_MANAGER)
    job = await feed_job(app, posted.json()["id"])
    assert job["state"] == "staged" and job["result"]["awaiting_approval"] == ["BASE"]
    assert job["result"]["diff"]["rows_changed"] == 1
    assert await stored_prices(app) == before
    async with client(app, ADMIN) as http:  # an admin is not a pricing manager
        assert (await http.post(f"/feeds/prices/{job['id']}/approve")).status_code == 403
    async with client(app, PRICING_MANAGER) as http:
        same = await http.post(f"/feeds/prices/{job['id']}/approve")
    assert same.status_code == 403  # who posted it
    async with client(app, OTHER_PRICING_MANAGER) as http:
        approved = await http.post(f"/feeds/prices/{job['id']}/approve")
    assert approved.status_code == 200, approved.text
    done = await feed_job(app, job["id"])
    assert done["state"] == "succeeded", done
    prices = await resolve(app, app.state.acme, [("S1", 1)])
    assert prices["S1"]["unit_price_minor"] == 1050

    # The next one a second pricing manager declines: it never applies.
    posted = await post_prices(app, HEADER + "BASE,,S1,1,990,EUR,,,\n")
    staged = await feed_job(app, posted.json()["id"])
    assert staged["state"] == "staged"
    async with client(app, OTHER_PRICING_MANAGER) as http:
        declined = await http.post(
            f"/feeds/prices/{staged['id']}/decline", json={"reason": "below our list"}
        )
        assert declined.status_code == 200
        assert (await http.post(f"/feeds/prices/{staged['id']}/approve")).status_code == 409
    assert (await feed_job(app, staged["id"]))["state"] == "rejected"
    prices = await resolve(app, app.state.acme, [("S1", 1)])
    assert prices["S1"]["unit_price_minor"] == 1050


async def test_a_rollback_restores_exactly_the_earlier_answers(pricing):
    app = pricing
    lines = [("S1", 1), ("S1", 10), ("S2", 1), ("S3", 1), ("S4", 1)]
    earlier = await resolve(app, app.state.acme, lines)
    applied = await feed(app, CHANGE)
    changed = await resolve(app, app.state.acme, lines)
    assert changed != earlier
    version = applied["result"]["version"]
    async with client(app, as_role(Role.SALES_MANAGER)) as http:
        refused = await http.post(f"/price-versions/{version}/rollback", json={"reason": "oops"})
    assert refused.status_code == 403
    async with client(app, PRICING_MANAGER) as http:
        undone = await http.post(
            f"/price-versions/{version}/rollback", json={"reason": "wrong file"}
        )
        assert undone.status_code == 201, undone.text
        again = await http.post(f"/price-versions/{version}/rollback", json={"reason": "twice"})
        assert again.status_code == 409
        original = (await http.get(f"/price-versions/{version}")).json()
    rollback = undone.json()
    assert (rollback["rollback_of"], rollback["reason"]) == (version, "wrong file")
    assert rollback["rows"] == 4
    assert original["state"] == "rolled_back" and original["rolled_back_by"] == rollback["id"]
    assert await resolve(app, app.state.acme, lines) == earlier
    types = [r.type for r in await fetch(app, "SELECT type FROM outbox ORDER BY seq")]
    assert types.count(PriceVersionAppliedV1.full_type()) == 3  # start, change, rollback


async def explain(app, company_id, sku: str, **params) -> dict:
    async with client(app, ADMIN) as http:
        answer = await http.get(
            "/prices/explain", params={"client_id": str(company_id), "sku": sku, **params}
        )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_explain_answers_as_of_a_past_moment_and_resolve_names_the_version(pricing):
    app = pricing
    acme = app.state.acme
    moment = utcnow()
    first = (await fetch(app, "SELECT max(id) FROM price_versions"))[0][0]
    async with client(app, ADMIN) as http:
        answer = await http.post(
            "/prices/resolve", json={"client_id": str(acme), "lines": [{"sku": "S1"}]}
        )
    assert answer.json()["price_version"] == first
    applied = await feed(app, CHANGE)
    assert (await explain(app, acme, "S1"))["unit_price_minor"] == 1100
    assert (await explain(app, acme, "S2"))["unit_price_minor"] == 1710
    then = {"as_of": moment.isoformat()}
    s1 = await explain(app, acme, "S1", quantity="10", **then)
    assert (s1["unit_price_minor"], s1["rule"]) == (900, "base_list:BASE")  # the removed tier
    s2 = await explain(app, acme, "S2", **then)
    assert (s2["unit_price_minor"], s2["rule"]) == (1800, "contract")
    s4 = await explain(app, acme, "S4", **then)
    assert s4["unit_price_minor"] is None  # not priced yet then
    async with client(app, ADMIN) as http:
        answer = await http.post(
            "/prices/resolve", json={"client_id": str(acme), "lines": [{"sku": "S1"}]}
        )
        naive = await http.get(
            "/prices/explain",
            params={"client_id": str(acme), "sku": "S1", "as_of": "2026-01-01T00:00:00"},
        )
    assert answer.json()["price_version"] == applied["result"]["version"] > first
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "as_of"
