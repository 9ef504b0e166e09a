"""Companies: optimistic concurrency, the client card, tenant isolation, roles, events."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from services.accounts.store.models import Company
from shared.auth import Role
from shared.contracts.accounts import CompanyCreditChangedV1, CompanyUpsertedV1
from shared.events.outbox import OutboxMessage
from shared.testing.fixtures import as_role, client
from tests.accounts.factories import ADMIN, add_company, add_manager, add_user, member_headers


async def outbox(app, event_type: str) -> list[dict]:
    async with app.state.sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.type == event_type)
            .order_by(OutboxMessage.seq)
        )
        return [r.payload for r in rows]


async def test_create_publishes_upserted_and_credit_events_in_the_same_transaction(accounts):
    company = await add_company(
        accounts, legal_name="Acme", credit_limit_minor=500_000, currency="EUR"
    )
    upserted = await outbox(accounts, CompanyUpsertedV1.full_type())
    credit = await outbox(accounts, CompanyCreditChangedV1.full_type())
    assert [e["data"]["company_id"] for e in upserted] == [company["id"]]
    event = CompanyCreditChangedV1.model_validate(credit[0]["data"])
    assert event.available_credit_minor == 500_000


async def test_create_with_unknown_group_is_a_422_naming_the_field_and_stores_nothing(accounts):
    async with client(accounts, ADMIN) as http:
        response = await http.post("/companies", json={"legal_name": "X", "client_group": "nope"})
        money = await http.post(
            "/companies", json={"legal_name": "Y", "credit_limit_minor": -1, "currency": "eur"}
        )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "client_group"
    assert {e["field"] for e in money.json()["errors"]} == {"credit_limit_minor", "currency"}
    async with accounts.state.sessionmaker() as session:
        assert (await session.scalars(select(Company))).all() == []
    assert await outbox(accounts, CompanyUpsertedV1.full_type()) == []


async def test_update_needs_the_current_etag(accounts):
    company = await add_company(accounts, legal_name="Acme")
    url = f"/companies/{company['id']}"
    async with client(accounts, ADMIN) as http:
        read = await http.get(url)
        etag = read.headers["etag"]
        missing = await http.patch(url, json={"industry": "steel"})
        first = await http.patch(url, json={"industry": "steel"}, headers={"If-Match": etag})
        stale = await http.patch(url, json={"industry": "glass"}, headers={"If-Match": etag})
    assert missing.status_code == 428
    assert first.status_code == 200 and first.json()["industry"] == "steel"
    assert first.headers["etag"] != etag
    assert stale.status_code == 412
    assert (await http_get_json(accounts, url))["industry"] == "steel"


async def test_a_client_registered_with_marketplace_partners_says_so_in_its_event(accounts):
    company = await add_company(accounts, legal_name="Acme", partners=["ozon"])
    url = f"/companies/{company['id']}"
    async with client(accounts, ADMIN) as http:
        etag = (await http.get(url)).headers["etag"]
        changed = await http.patch(
            url, json={"partners": ["wb", "ozon", "wb"]}, headers={"If-Match": etag}
        )
        bad = await http.patch(
            url, json={"partners": ["Not A Code"]}, headers={"If-Match": changed.headers["etag"]}
        )
    assert changed.json()["partners"] == ["ozon", "wb"]
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("partners")
    upserted = await outbox(accounts, CompanyUpsertedV1.full_type())
    assert [e["data"]["partners"] for e in upserted] == [["ozon"], ["ozon", "wb"]]


async def http_get_json(app, url: str) -> dict:
    async with client(app, ADMIN) as http:
        return (await http.get(url)).json()


async def test_credit_limit_change_emits_credit_changed_and_name_change_does_not(accounts):
    company = await add_company(accounts, legal_name="Acme")
    url = f"/companies/{company['id']}"
    async with client(accounts, ADMIN) as http:
        etag = (await http.get(url)).headers["etag"]
        renamed = await http.patch(url, json={"legal_name": "Acme Ltd"}, headers={"If-Match": etag})
        await http.patch(
            url, json={"credit_limit_minor": 1000}, headers={"If-Match": renamed.headers["etag"]}
        )
    assert len(await outbox(accounts, CompanyUpsertedV1.full_type())) == 3
    assert len(await outbox(accounts, CompanyCreditChangedV1.full_type())) == 1


async def test_client_card_fields_are_typed_per_client_type_and_hidden_from_clients(accounts):
    async with client(accounts, ADMIN) as http:
        kind = await http.put(
            "/client-types/dealer",
            json={
                "name": "Dealer",
                "card_fields": [
                    {
                        "key": "potential_volume",
                        "label": "Potential volume",
                        "type": "decimal",
                        "unit": "t/year",
                        "required": True,
                    },
                    {"key": "suppliers", "label": "Suppliers used", "type": "list"},
                    {
                        "key": "storage",
                        "label": "Storage",
                        "type": "choice",
                        "choices": ["none", "covered", "heated"],
                    },
                ],
            },
        )
        assert kind.status_code == 200, kind.text
        company = (
            await http.post("/companies", json={"legal_name": "Dealer 1", "client_type": "dealer"})
        ).json()
        url = f"/companies/{company['id']}/card"
        etag = (await http.get(url)).headers["etag"]
        bad = await http.put(
            url,
            json={"values": {"potential_volume": "lots", "storage": "cold", "colour": "red"}},
            headers={"If-Match": etag},
        )
        good = await http.put(
            url,
            json={
                "values": {
                    "potential_volume": 1200.5,
                    "suppliers": ["Rival A"],
                    "storage": "heated",
                }
            },
            headers={"If-Match": etag},
        )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {
        "card.potential_volume",
        "card.storage",
        "card.colour",
    }
    assert good.status_code == 200
    assert good.json()["values"] == {
        "potential_volume": "1200.5",
        "suppliers": ["Rival A"],
        "storage": "heated",
    }

    user = await add_user(
        accounts, "b@dealer.example", companies={uuid.UUID(company["id"]): "company_admin"}
    )
    async with client(
        accounts, member_headers(user, uuid.UUID(company["id"]), Role.COMPANY_ADMIN)
    ) as http:
        assert (await http.get(url)).status_code == 403
        assert (await http.get(f"/companies/{company['id']}")).status_code == 200


async def test_buyer_of_company_a_gets_404_for_everything_of_company_b(accounts):
    a = await add_company(accounts, legal_name="A")
    b = await add_company(accounts, legal_name="B")
    buyer = await add_user(accounts, "buyer@a.example", companies={uuid.UUID(a["id"]): "buyer"})
    headers = member_headers(buyer, uuid.UUID(a["id"]))
    async with client(accounts, headers) as http:
        for path in ("", "/addresses", "/credit", "/statements"):
            assert (await http.get(f"/companies/{b['id']}{path}")).status_code == 404, path
            assert (await http.get(f"/companies/{a['id']}{path}")).status_code == 200, path
        listed = (await http.get("/companies")).json()["items"]
    assert [c["id"] for c in listed] == [a["id"]]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("post", "/companies", {Role.ADMIN, Role.SALES_MANAGER, Role.HEAD_OF_SALES}),
        ("get", "/client-types", {Role.ADMIN, Role.SALES_MANAGER, Role.HEAD_OF_SALES}),
        ("post", "/client-groups", {Role.ADMIN}),
        ("get", "/companies/{id}/card", {Role.ADMIN, Role.SALES_MANAGER, Role.HEAD_OF_SALES}),
        (
            "get",
            "/companies/{id}/knowledge-goals",
            {Role.ADMIN, Role.SALES_MANAGER, Role.HEAD_OF_SALES},
        ),
        (
            "get",
            "/companies",
            {
                Role.ADMIN,
                Role.SALES_MANAGER,
                Role.HEAD_OF_SALES,
                Role.PRICING_MANAGER,
                Role.BUYER,
                Role.COMPANY_ADMIN,
            },
        ),
        ("get", "/api-keys", {Role.ADMIN}),
    ],
)
async def test_each_role_is_refused_where_it_must_be(accounts, method, path, allowed):
    company = await add_company(accounts)
    bodies = {"/companies": {"legal_name": "Z"}, "/client-groups": {"code": "z", "name": "Z"}}
    for role in Role:
        if role in allowed or role == Role.SYSTEM:
            continue
        async with client(accounts, as_role(role)) as http:
            response = await http.request(
                method, path.format(id=company["id"]), json=bodies.get(path)
            )
        assert response.status_code == 403, (role, response.text)


async def test_knowledge_goals_by_year(accounts):
    manager, manager_headers = await add_manager(accounts)
    company = await add_company(accounts, sales_manager_id=str(manager))
    base = f"/companies/{company['id']}/knowledge-goals"
    async with client(accounts, manager_headers) as http:
        put = await http.put(
            f"{base}/2026/strategic-session",
            json={"title": "Strategic session held", "status": "achieved"},
        )
        await http.put(f"{base}/2026/share-of-wallet", json={"title": "Share of wallet known"})
        await http.put(f"{base}/2027/technical-director", json={"title": "Technical director met"})
        bad = await http.put(f"{base}/2026/x", json={"title": "X", "status": "maybe"})
        year = (await http.get(base, params={"year": 2026})).json()
    assert put.status_code == 200
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"
    assert [(g["code"], g["status"]) for g in year] == [
        ("share-of-wallet", "open"),
        ("strategic-session", "achieved"),
    ]


async def test_company_admin_keeps_addresses_and_buyer_only_reads_them(accounts):
    company = await add_company(accounts)
    cid = uuid.UUID(company["id"])
    admin = await add_user(accounts, "admin@c.example", companies={cid: "company_admin"})
    buyer = await add_user(accounts, "buyer@c.example", companies={cid: "buyer"})
    address = {
        "kind": "shipping",
        "line1": "1 Dock Rd",
        "city": "Riga",
        "postal_code": "LV-1010",
        "region": "Rīga",
        "country": "LV",
    }
    async with client(accounts) as http:
        added = await http.post(
            f"/companies/{cid}/addresses",
            json=address,
            headers=member_headers(admin, cid, Role.COMPANY_ADMIN),
        )
        refused = await http.post(
            f"/companies/{cid}/addresses", json=address, headers=member_headers(buyer, cid)
        )
        listed = await http.get(f"/companies/{cid}/addresses", headers=member_headers(buyer, cid))
    assert added.status_code == 201
    assert refused.status_code == 403
    assert [(a["city"], a["region"]) for a in listed.json()] == [("Riga", "Rīga")]


async def test_metrics_label_requests_by_route_template_not_by_id(accounts):
    company = await add_company(accounts)
    async with client(accounts, ADMIN) as http:
        await http.get(f"/companies/{company['id']}")
        metrics = (await http.get("/metrics")).text
    assert 'route="/companies/{company_id}"' in metrics
    assert company["id"] not in metrics
