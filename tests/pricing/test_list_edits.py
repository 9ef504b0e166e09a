"""Edits of lists through the policy API meet the price feed's governance: dry run, guardrails
and override, approval, versions, rollback and explain as of a past moment."""

from __future__ import annotations

import uuid

import pytest

from shared.auth import Role
from shared.clock import utcnow
from shared.testing.fixtures import as_role, client
from tests.pricing.test_governance import (
    OTHER_PRICING_MANAGER,
    PRICING_MANAGER,
    STARTING,
    explain,
    feed_job,
    guardrail,
    stored_prices,
)
from tests.pricing.world import (
    ADMIN,
    ERP,
    add_list,
    assign,
    call,
    feed,
    fetch,
    resolve,
    seed_client,
    seed_skus,
)

EDIT = {
    "rows": [
        {"sku": "S1", "price_minor": 1100},  # +10 %
        {"sku": "S1", "min_qty": "10", "action": "delete"},  # removed
        {"sku": "S4", "price_minor": 700},  # added
        {"sku": "S3", "price_minor": 500},  # unchanged: no diff row
    ]
}
WRONG_ROLES = [
    as_role(Role.SALES_MANAGER),
    as_role(Role.BUYER, company_id=uuid.uuid4()),
    ERP,
]


@pytest.fixture
async def pricing(start_app):
    app = await start_app("pricing")
    await seed_skus(app, [(f"S{i}", "Knauf", "boards") for i in range(1, 6)])
    await add_list(app, "BASE", base=True)
    await add_list(app, "DEALER", parent="BASE", markup_bp=-1000, priority=5)
    acme = await seed_client(app, external_id="ACME")
    beta = await seed_client(app, external_id="BETA")
    await assign(app, beta, "DEALER")
    assert (await feed(app, STARTING))["state"] == "succeeded"
    app.state.acme, app.state.beta = acme, beta
    return app


async def edit(app, body, headers=ADMIN, **params):
    async with client(app, headers) as http:
        return await http.post("/price-lists/BASE/entries", json=body, params=params)


async def patch(app, code: str, body: dict, headers=ADMIN, **params):
    async with client(app, headers) as http:
        return await http.patch(f"/price-lists/{code}", json=body, params=params)


async def test_a_dry_run_of_an_entries_edit_is_exactly_the_applied_edit(pricing):
    app = pricing
    before = await stored_prices(app)
    dry = await edit(app, EDIT, dry_run="true")
    assert dry.status_code == 200, dry.text
    predicted = dry.json()
    assert (predicted["state"], predicted["version"]) == ("dry_run", None)
    diff = predicted["diff"]
    assert (diff["rows_added"], diff["rows_changed"], diff["rows_removed"]) == (1, 1, 1)
    assert diff["lists"] == [{"list_code": "BASE", "rows": 3, "max_change_percent": 10.0}]
    assert await stored_prices(app) == before
    async with client(app, ADMIN) as http:
        csv = (await http.get(f"/feeds/prices/{predicted['job_id']}/diff")).text
    assert "S4" in csv and "1000,1100" in csv

    applied = await edit(app, EDIT)
    assert applied.status_code == 200, applied.text
    assert applied.json()["state"] == "applied"
    assert applied.json()["diff"] == diff
    [version] = await fetch(
        app,
        "SELECT cause, created_by, rows FROM price_versions WHERE id = :v",
        v=applied.json()["version"],
    )
    assert version.cause == f"list_edit:{applied.json()['job_id']}"
    assert version.created_by.startswith("user:") and version.rows == 3
    prices = await resolve(app, app.state.acme, [("S1", 10), ("S4", 1)])
    assert (prices["S1"]["unit_price_minor"], prices["S4"]["unit_price_minor"]) == (1100, 700)

    # A bad row changes nothing and is named by its place in the body.
    bad = await edit(
        app, {"rows": [{"sku": "S1", "price_minor": 5}, {"sku": "NOPE", "price_minor": 9}]}
    )
    assert bad.status_code == 422
    assert [(e["field"], e["row"]) for e in bad.json()["errors"]] == [("rows[1].sku", 2)]
    assert (await resolve(app, app.state.acme, [("S1", 1)]))["S1"]["unit_price_minor"] == 1100


async def test_a_guardrail_refuses_an_edit_and_an_override_applies_it_with_the_reason(pricing):
    app = pricing
    await guardrail(app, "BASE", max_row_change_percent="20")
    before = await stored_prices(app)
    body = {"rows": [{"sku": "S3", "price_minor": 520}, {"sku": "S1", "price_minor": 1300}]}
    refused = await edit(app, body)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    [error] = refused.json()["errors"]
    assert (error["field"], error["row"]) == ("rows[1].price_minor", 2)
    assert "by 30.0 % (at most 20.0 % on list BASE)" in error["message"]
    assert await stored_prices(app) == before

    for headers in WRONG_ROLES:  # nobody else edits a list, with or without a reason
        assert (await edit(app, body, headers, override_reason="ERP says")).status_code == 403
    overridden = await edit(app, body, PRICING_MANAGER, override_reason="supplier price rise")
    assert overridden.status_code == 200, overridden.text
    [version] = await fetch(
        app,
        "SELECT override_by, override_reason FROM price_versions WHERE id = :v",
        v=overridden.json()["version"],
    )
    assert version.override_reason == "supplier price rise"
    assert version.override_by.startswith("user:")
    assert (await resolve(app, app.state.acme, [("S1", 1)]))["S1"]["unit_price_minor"] == 1300


async def test_a_list_that_needs_approval_stages_an_edit_for_a_second_pricing_manager(pricing):
    app = pricing
    await guardrail(app, "BASE", requires_approval=True)
    before = await stored_prices(app)
    staged = await edit(app, {"rows": [{"sku": "S1", "price_minor": 1050}]}, PRICING_MANAGER)
    assert staged.status_code == 202, staged.text
    assert (staged.json()["state"], staged.json()["awaiting_approval"]) == ("staged", ["BASE"])
    assert await stored_prices(app) == before
    job = staged.json()["job_id"]
    async with client(app, PRICING_MANAGER) as http:  # who made it
        assert (await http.post(f"/feeds/prices/{job}/approve")).status_code == 403
    async with client(app, OTHER_PRICING_MANAGER) as http:
        assert (await http.post(f"/feeds/prices/{job}/approve")).status_code == 200
    assert (await feed_job(app, job))["state"] == "succeeded"
    assert (await resolve(app, app.state.acme, [("S1", 1)]))["S1"]["unit_price_minor"] == 1050


async def test_rollback_of_an_entries_edit_restores_resolve_and_explain_sees_it(pricing):
    app = pricing
    acme = app.state.acme
    lines = [("S1", 10), ("S3", 1), ("S4", 1)]
    earlier = await resolve(app, acme, lines)
    moment = utcnow()
    version = (await edit(app, EDIT)).json()["version"]
    assert await resolve(app, acme, lines) != earlier
    then = await explain(app, acme, "S1", quantity="10", as_of=moment.isoformat())
    assert (then["unit_price_minor"], then["rule"]) == (900, "base_list:BASE")
    async with client(app, PRICING_MANAGER) as http:
        undone = await http.post(f"/price-versions/{version}/rollback", json={"reason": "typo"})
    assert undone.status_code == 201, undone.text
    assert await resolve(app, acme, lines) == earlier


async def test_a_markup_edit_is_governed_versioned_and_rolled_back(pricing):
    app = pricing
    beta = app.state.beta
    lines = [("S1", 1), ("S2", 1), ("S3", 1)]
    earlier = await resolve(app, beta, lines)
    assert earlier["S1"]["unit_price_minor"] == 900  # 1000 - 10 %
    moment = utcnow()

    dry = await patch(app, "DEALER", {"markup_percent": "-5"}, dry_run="true")
    assert dry.status_code == 200, dry.text
    change = dry.json()["price_change"]
    assert change["state"] == "dry_run" and dry.json()["markup_percent"] == "-10.00"
    assert (change["diff"]["rows_changed"], change["diff"]["rows_added"]) == (4, 0)
    assert change["diff"]["change_percent"]["min"] == pytest.approx(5.56, abs=0.01)
    assert await resolve(app, beta, lines) == earlier

    await guardrail(app, "DEALER", max_row_change_percent="5")
    refused = await patch(app, "DEALER", {"markup_percent": "-5"})
    assert refused.status_code == 422, refused.text
    assert {e["field"] for e in refused.json()["errors"]} == {"markup_percent"}
    assert any("DEALER S1 at 10" in e["message"] for e in refused.json()["errors"])
    assert await resolve(app, beta, lines) == earlier

    applied = await patch(app, "DEALER", {"markup_percent": "-5"}, override_reason="new deal")
    assert applied.status_code == 200, applied.text
    change = applied.json()["price_change"]
    assert change["state"] == "applied" and change["diff"] == dry.json()["price_change"]["diff"]
    now = await resolve(app, beta, lines)
    assert (now["S1"]["unit_price_minor"], now["S2"]["unit_price_minor"]) == (950, 1900)
    async with client(app, ADMIN) as http:
        version = (await http.get(f"/price-versions/{change['version']}")).json()
    assert version["override_reason"] == "new deal"
    assert [
        (c["code"], c["before"]["markup_bp"], c["after"]["markup_bp"])
        for c in version["list_changes"]
    ] == [("DEALER", -1000, -500)]
    then = await explain(app, beta, "S1", as_of=moment.isoformat())
    assert then["unit_price_minor"] == 900

    rollback = f"/price-versions/{version['id']}/rollback"
    refused = await call(app, "POST", rollback, as_role(Role.SALES_MANAGER), json={"reason": "x y"})
    assert refused.status_code == 403
    undone = await call(app, "POST", rollback, PRICING_MANAGER, json={"reason": "wrong deal"})
    assert undone.status_code == 201, undone.text
    assert undone.json()["list_changes"][0]["after"]["markup_bp"] == -1000
    assert await resolve(app, beta, lines) == earlier


async def test_a_markup_edit_of_a_list_that_needs_approval_waits_for_a_pricing_manager(pricing):
    app = pricing
    beta = app.state.beta
    await guardrail(app, "DEALER", requires_approval=True)
    staged = await patch(app, "DEALER", {"markup_percent": "-20"})
    assert staged.status_code == 202, staged.text
    change = staged.json()["price_change"]
    assert (change["state"], change["awaiting_approval"]) == ("staged", ["DEALER"])
    assert staged.json()["markup_percent"] == "-10.00"
    assert (await resolve(app, beta, [("S1", 1)]))["S1"]["unit_price_minor"] == 900
    # With other fields the staged edit is refused whole: nothing half-applies.
    mixed = await patch(app, "DEALER", {"markup_percent": "-20", "name": "Dealers"})
    assert mixed.status_code == 422 and mixed.json()["errors"][0]["field"] == "name"

    path = f"/price-versions/{change['version']}"
    async with client(app, ADMIN) as http:  # an admin is not a pricing manager
        assert (await http.post(f"{path}/approve")).status_code == 403
    async with client(app, PRICING_MANAGER) as http:
        approved = await http.post(f"{path}/approve")
        assert approved.status_code == 200, approved.text
        assert (await http.post(f"{path}/approve")).status_code == 409
    assert approved.json()["state"] == "applied"
    assert approved.json()["approved_by"].startswith("user:")
    assert (await resolve(app, beta, [("S1", 1)]))["S1"]["unit_price_minor"] == 800

    # The next one is declined: it never applies.
    staged = await patch(app, "DEALER", {"markup_percent": "-30"})
    path = f"/price-versions/{staged.json()['price_change']['version']}"
    async with client(app, OTHER_PRICING_MANAGER) as http:
        declined = await http.post(f"{path}/decline", json={"reason": "too deep"})
    assert declined.json()["state"] == "discarded"
    assert (await resolve(app, beta, [("S1", 1)]))["S1"]["unit_price_minor"] == 800


async def test_a_list_with_prices_is_not_deleted_around_its_versions(pricing):
    app = pricing
    async with client(app, ADMIN) as http:
        assert (await http.delete("/price-lists/BASE")).status_code == 409  # DEALER derives
        await http.patch("/price-lists/DEALER", json={"parent_code": None})
        assert (await http.delete("/price-lists/BASE")).status_code == 409  # it has prices
        rows = [
            {"sku": s, "min_qty": q, "action": "delete"}
            for s, q in (("S1", "1"), ("S1", "10"), ("S2", "1"), ("S3", "1"))
        ]
        emptied = await http.post("/price-lists/BASE/entries", json={"rows": rows})
        assert emptied.json()["diff"]["rows_removed"] == 4
        assert (await http.delete("/price-lists/BASE")).status_code == 204
