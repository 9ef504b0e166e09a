"""A policy write about a client (its lists, discounts, ladder) needs a client accounts has
(`shared.scope`, `ClientScope.ensure_known`): an unknown company id is a 404 naming
`company_id` that changes nothing; a company accounts has but whose event pricing has not
heard yet is taken (pricing asks accounts), and the event fills in the client later."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from services.pricing.events import handle_company_upserted
from shared.contracts.accounts import CompanyUpsertedV1
from shared.testing.fixtures import client
from tests.pricing.test_policy_api import LADDER
from tests.pricing.world import ADMIN, add_list, fetch
from tests.reach import refused, snapshot

TABLES = ("clients", "client_price_lists", "client_discounts", "client_ladders", "outbox")
WRITES = [
    ("price-lists", {"list_codes": ["KEY"]}),
    ("discounts", {"discounts": [{"scope": "brand", "value": "Knauf", "percent": "5"}]}),
    ("ladder", {"ladder_code": "VOLUME"}),
]


@pytest.fixture
async def apps(start_app):
    accounts = await start_app("accounts")
    pricing = await start_app("pricing", upstreams={"accounts": accounts})
    await add_list(pricing, "KEY")
    async with client(pricing, ADMIN) as http:
        assert (await http.post("/ladders", json=LADDER)).status_code == 201
    return accounts, pricing


async def write(pricing, company_id) -> list:
    async with client(pricing, ADMIN) as http:
        return [await http.put(f"/clients/{company_id}/{what}", json=body) for what, body in WRITES]


async def test_a_write_about_a_company_nobody_has_is_404_naming_it_and_changes_nothing(apps):
    _, pricing = apps
    before = await snapshot(pricing, *TABLES)
    for answer in await write(pricing, uuid.uuid4()):
        assert refused(answer), answer.text
        assert [e["field"] for e in answer.json()["errors"]] == ["company_id"]
    assert await snapshot(pricing, *TABLES) == before


async def test_a_company_accounts_has_but_pricing_has_not_heard_of_yet_is_taken(apps):
    accounts, pricing = apps
    async with client(accounts, ADMIN) as http:
        created = await http.post("/companies", json={"legal_name": "Fresh", "currency": "RUB"})
    assert created.status_code == 201, created.text
    fresh = uuid.UUID(created.json()["id"])  # its company.upserted has not reached pricing

    assert [a.status_code for a in await write(pricing, fresh)] == [200, 200, 200]
    [(name, currency)] = await fetch(
        pricing, "SELECT legal_name, currency FROM clients WHERE company_id = :c", c=fresh
    )
    assert (name, currency) == ("", "RUB")  # a placeholder, in the client's currency

    async with accounts.state.sessionmaker() as session:
        [payload] = (
            await session.execute(
                text("SELECT payload FROM outbox WHERE type = :t"),
                {"t": CompanyUpsertedV1.full_type()},
            )
        ).scalars()
    async with pricing.state.sessionmaker() as session, session.begin():
        await handle_company_upserted(CompanyUpsertedV1.model_validate(payload["data"]), session)
    [(name,)] = await fetch(
        pricing, "SELECT legal_name FROM clients WHERE company_id = :c", c=fresh
    )
    assert name == "Fresh"
    async with client(pricing, ADMIN) as http:
        lists = (await http.get(f"/clients/{fresh}/price-lists")).json()
        discounts = (await http.get(f"/clients/{fresh}/discounts")).json()
        ladder = (await http.get(f"/clients/{fresh}/ladder")).json()
    assert (lists["list_codes"], ladder["ladder_code"]) == (["KEY"], "VOLUME")
    assert [d["value"] for d in discounts["discounts"]] == ["Knauf"]
