"""A write about a client (its plan, a key-account mark, offers shown) needs a client accounts
has (`shared.scope`, `ClientScope.ensure_known`), for staff who reach every client too: an
unknown company id is a 404 naming the field and records nothing; a company accounts has but
whose event analytics has not heard yet is taken (analytics asks accounts)."""

from __future__ import annotations

import uuid

import pytest

from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.analytics.world import company, deliver
from tests.reach import refused, snapshot

TABLES = ("sales_plans", "upsell_offers", "key_account_marks")


@pytest.fixture
async def apps(start_app):
    accounts = await start_app("accounts")
    analytics = await start_app(
        "analytics", upstreams={"accounts": accounts}, recompute_interval_seconds=0
    )
    known = company()
    await deliver(analytics, known)
    return accounts, analytics, known.company_id


async def writes(app, headers, client_id, known) -> list:
    offers = [
        {"client_id": str(c), "kind": "cross_sell", "sku": "SKU-2"} for c in (known, client_id)
    ]
    async with client(app, headers) as http:
        return [
            await http.put(
                f"/clients/{client_id}/plans/2026-03",
                json={"plan_minor": 9000, "currency": "EUR"},
            ),
            await http.put(f"/sales/key-accounts/{client_id}", json={"criteria": ["strategic"]}),
            await http.post("/sales/offers", json={"offers": offers}),
        ]


@pytest.mark.parametrize("role", [Role.HEAD_OF_SALES, Role.ADMIN])
async def test_a_write_about_a_company_nobody_has_is_404_naming_it(apps, role):
    _, analytics, known = apps
    before = await snapshot(analytics, *TABLES)
    answers = await writes(analytics, as_role(role), uuid.uuid4(), known)
    assert all(refused(a) for a in answers), [a.text for a in answers]
    assert [[e["field"] for e in a.json()["errors"]] for a in answers] == [
        ["client_id"],
        ["client_id"],
        ["offers[1].client_id"],
    ]
    assert await snapshot(analytics, *TABLES) == before


async def test_a_company_accounts_has_but_analytics_has_not_heard_of_yet_is_taken(apps):
    accounts, analytics, known = apps
    async with client(accounts, as_role(Role.ADMIN)) as http:
        created = await http.post("/companies", json={"legal_name": "Fresh"})
    assert created.status_code == 201, created.text
    fresh = created.json()["id"]  # its company.upserted has not reached analytics
    answers = await writes(analytics, as_role(Role.HEAD_OF_SALES), fresh, known)
    assert [a.status_code for a in answers] == [200, 200, 201], [a.text for a in answers]
