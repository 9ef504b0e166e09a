"""The bulk policy endpoints over HTTP against real PostgreSQL: price lists, group and client
list assignments and client discounts by the thousand, all_or_nothing or skip_bad_rows, with
the single endpoints' rules, roles and events."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from services.pricing.api.bulk_schemas import MAX_ITEMS
from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.pricing.world import (
    add_list,
    fetch,
    price_changes,
    resolve,
    seed_client,
    seed_skus,
    sql,
)

ADMIN = as_role(Role.ADMIN)
ERP = as_role(Role.INTEGRATOR, kind="api_key", subject="erp-key")


async def bulk(app, path: str, items, headers=ADMIN, **params):
    async with client(app, headers) as http:
        return await http.post(f"/bulk/{path}", json={"items": items}, params=params)


def outcomes(answer) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [row["outcome"] for row in answer.json()["rows"]]


async def list_codes(app) -> list[str]:
    return [r.code for r in await fetch(app, "SELECT code FROM price_lists ORDER BY code")]


GROUP_LISTS = [
    {"code": "BASE", "currency": "EUR", "is_base": True},
    {"code": "G1", "currency": "EUR", "parent_code": "BASE", "markup_percent": "-5.00"},
    {"code": "G2", "currency": "EUR", "parent_code": "BASE", "markup_percent": "-10.00"},
]


async def test_lists_and_assignments_in_bulk_reach_resolved_prices(pricing):
    await seed_skus(pricing, [("S1", "Knauf", "boards")])
    dealer = await seed_client(pricing, external_id="C-1", group_code="dealers")
    own = await seed_client(pricing, external_id="C-2", group_code="retail")
    assert outcomes(await bulk(pricing, "price-lists", GROUP_LISTS, ERP)) == ["created"] * 3
    await sql(
        pricing,
        "INSERT INTO price_list_entries (list_id, sku_id, min_qty, price_minor)"
        " SELECT l.id, s.id, 1, 10000 FROM price_lists l, skus s WHERE l.code = 'BASE'",
    )
    groups = [{"group_code": "dealers", "list_codes": ["G1"]}]
    assert outcomes(await bulk(pricing, "client-groups/price-lists", groups, ERP)) == ["created"]
    clients = [{"company_id": str(own), "list_codes": ["G2"]}]
    assert outcomes(await bulk(pricing, "clients/price-lists", clients, ERP)) == ["created"]
    discounts = [
        {
            "company_id": str(own),
            "discounts": [{"scope": "brand", "value": "Knauf", "percent": "50"}],
        }
    ]
    assert outcomes(await bulk(pricing, "clients/discounts", discounts, ERP)) == ["created"]

    assert (await resolve(pricing, dealer, [("S1", 1)]))["S1"]["unit_price_minor"] == 9500
    # G2 is 9000; the client's brand discount applies on list prices too.
    assert (await resolve(pricing, own, [("S1", 1)]))["S1"]["unit_price_minor"] == 4500


async def test_one_bad_row_all_or_nothing_changes_nothing_and_names_the_row(pricing):
    items = [
        *GROUP_LISTS,
        {"code": "USD1", "currency": "USD", "parent_code": "BASE"},  # row 4: other currency
        {"code": "G3", "currency": "EUR", "parent_code": "NOPE"},  # row 5: unknown parent
        {"code": "G1", "currency": "EUR"},  # row 6: repeats row 2
    ]
    answer = await bulk(pricing, "price-lists", items)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert {(e["row"], e["field"]) for e in answer.json()["errors"]} == {
        (4, "parent_code"),
        (5, "parent_code"),
        (6, "code"),
    }
    assert await list_codes(pricing) == []
    assert await price_changes(pricing) == []


async def test_skip_bad_rows_applies_the_good_ones_and_a_repeat_is_unchanged(pricing):
    await add_list(pricing, "LEGACY")
    items = [
        *GROUP_LISTS,
        {"code": "G3", "currency": "EUR", "parent_code": "NOPE"},
        {"code": "LEGACY", "currency": "EUR", "name": "Renamed"},
    ]
    answer = await bulk(pricing, "price-lists", items, mode="skip_bad_rows")
    assert outcomes(answer) == ["created", "created", "created", "rejected", "updated"]
    body = answer.json()
    assert (body["created"], body["updated"], body["rejected"]) == (3, 1, 1)
    assert body["rows"][3]["errors"][0]["field"] == "parent_code"
    assert await list_codes(pricing) == ["BASE", "G1", "G2", "LEGACY"]
    (event,) = await price_changes(pricing)
    assert event["list_codes"] == ["BASE", "G1", "G2", "LEGACY"] and event["rows"] == 4

    again = await bulk(pricing, "price-lists", items, mode="skip_bad_rows")
    assert outcomes(again) == ["unchanged"] * 3 + ["rejected", "unchanged"]
    assert len(await price_changes(pricing)) == 1  # a repeat records nothing


async def test_assignments_and_discounts_repeat_as_unchanged(pricing):
    await add_list(pricing, "A")
    await add_list(pricing, "B")
    company = await seed_client(pricing, external_id="C-1")
    groups = [{"group_code": f"g{i}", "list_codes": ["A", "B"]} for i in range(50)]
    clients = [{"company_id": str(company), "list_codes": ["B"]}]
    discounts = [
        {
            "company_id": str(company),
            "discounts": [{"scope": "category", "value": "boards", "percent": "2.5"}],
        }
    ]
    for path, items in (
        ("client-groups/price-lists", groups),
        ("clients/price-lists", clients),
        ("clients/discounts", discounts),
    ):
        assert set(outcomes(await bulk(pricing, path, items))) == {"created"}, path
        assert set(outcomes(await bulk(pricing, path, items))) == {"unchanged"}, path
    assert len(await fetch(pricing, "SELECT * FROM group_price_lists")) == 100
    events = await price_changes(pricing)
    assert [e["cause"] for e in events] == [
        "client_group.price_lists.bulk",
        "client.price_lists.bulk",
        "client.discounts.bulk",
    ]
    assert events[0]["list_codes"] == ["A", "B"] and events[0]["rows"] == 100
    assert events[1]["client_ids"] == [str(company)] and events[2]["client_ids"] == [str(company)]

    # A changed set is `updated`, and the event names the list that lost the groups.
    changed = [{"group_code": "g0", "list_codes": ["A"]}]
    assert outcomes(await bulk(pricing, "client-groups/price-lists", changed)) == ["updated"]
    assert (await price_changes(pricing))[-1]["list_codes"] == ["B"]


async def test_bad_assignment_rows_are_named(pricing):
    await add_list(pricing, "A")
    company = await seed_client(pricing, external_id="C-1")
    items = [
        {"group_code": "g1", "list_codes": ["A"]},
        {"group_code": "g2", "list_codes": ["A", "MISSING"]},
    ]
    answer = await bulk(pricing, "client-groups/price-lists", items)
    assert answer.status_code == 422, answer.text
    assert [(e["row"], e["field"]) for e in answer.json()["errors"]] == [(2, "list_codes[1]")]
    assert await fetch(pricing, "SELECT * FROM group_price_lists") == []

    discounts = [
        {
            "company_id": str(company),
            "discounts": [
                {"scope": "brand", "value": "Knauf", "percent": "5"},
                {"scope": "brand", "value": "Knauf", "percent": "6"},
            ],
        }
    ]
    answer = await bulk(pricing, "clients/discounts", discounts)
    assert answer.status_code == 422, answer.text
    assert [(e["row"], e["field"]) for e in answer.json()["errors"]] == [(1, "discounts[1].value")]


async def test_an_existing_lists_markup_is_governed_not_bulk_edited(pricing):
    await add_list(pricing, "BASE", base=True)
    await add_list(pricing, "G1", parent="BASE", markup_bp=-500)
    items = [{"code": "G1", "currency": "EUR", "parent_code": "BASE", "markup_percent": "-20"}]
    answer = await bulk(pricing, "price-lists", items)
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["errors"]
    assert (error["row"], error["field"]) == (1, "markup_percent")
    assert "PATCH" in error["message"]
    assert (await fetch(pricing, "SELECT markup_bp FROM price_lists WHERE code = 'G1'"))[0][
        0
    ] == -500


async def test_more_than_the_limit_is_refused(pricing):
    items = [{"group_code": f"g{i}", "list_codes": []} for i in range(MAX_ITEMS + 1)]
    answer = await bulk(pricing, "client-groups/price-lists", items)
    assert answer.status_code == 422, answer.text
    assert "items" in {e["field"] for e in answer.json()["errors"]}
    assert await price_changes(pricing) == []


@pytest.mark.parametrize(
    "who",
    [
        as_role(Role.BUYER, company_id=uuid.uuid4()),
        as_role(Role.SALES_MANAGER, subject=uuid.uuid4()),
        as_role(Role.PRICING_MANAGER),
        as_role(Role.PARTNER, kind="api_key", subject="mp-key", partner_code="mp"),
    ],
    ids=["buyer", "sales_manager", "pricing_manager", "partner"],
)
async def test_only_admins_and_integrators_may_bulk_edit(pricing, who):
    for path, items in (
        ("price-lists", GROUP_LISTS),
        ("client-groups/price-lists", [{"group_code": "g", "list_codes": []}]),
        ("clients/price-lists", [{"company_id": str(uuid.uuid4()), "list_codes": []}]),
        ("clients/discounts", [{"company_id": str(uuid.uuid4()), "discounts": []}]),
    ):
        answer = await bulk(pricing, path, items, who)
        assert answer.status_code == 403, (path, answer.text)
    assert await list_codes(pricing) == []


async def test_an_idempotency_key_replays_the_first_answer(pricing):
    headers = {**ERP, "Idempotency-Key": "batch-1"}
    first = await bulk(pricing, "price-lists", GROUP_LISTS, headers)
    assert outcomes(first) == ["created"] * 3
    replay = await bulk(pricing, "price-lists", GROUP_LISTS, headers)
    assert replay.json() == first.json()  # not "unchanged": the stored answer
    assert len(await price_changes(pricing)) == 1


async def test_clients_accounts_has_are_taken_and_unknown_ones_rejected(start_app):
    accounts = await start_app("accounts")
    pricing = await start_app("pricing", upstreams={"accounts": accounts})
    await add_list(pricing, "KEY")
    async with client(accounts, ADMIN) as http:
        created = await http.post("/companies", json={"legal_name": "Fresh", "currency": "EUR"})
    assert created.status_code == 201, created.text
    fresh = created.json()["id"]  # its company.upserted has not reached pricing yet
    items = [
        {"company_id": fresh, "list_codes": ["KEY"]},
        {"company_id": str(uuid.uuid4()), "list_codes": ["KEY"]},
    ]
    refused = await bulk(pricing, "clients/price-lists", items)
    assert refused.status_code == 422, refused.text
    assert [(e["row"], e["field"]) for e in refused.json()["errors"]] == [(2, "company_id")]
    assert await fetch(pricing, "SELECT * FROM client_price_lists") == []

    answer = await bulk(pricing, "clients/price-lists", items, mode="skip_bad_rows")
    assert outcomes(answer) == ["created", "rejected"]
    stored = await fetch(
        pricing,
        "SELECT c.company_id FROM client_price_lists a JOIN clients c ON c.id = a.client_id",
    )
    assert [str(r.company_id) for r in stored] == [fresh]


async def test_the_single_edits_rules_on_lists_hold_in_bulk(pricing):
    await add_list(pricing, "BASE", base=True)
    await add_list(pricing, "G1", parent="BASE")
    await add_list(pricing, "M1")
    await sql(pricing, "UPDATE price_lists SET is_matrix = true WHERE code = 'M1'")
    items = [
        {"code": "BASE", "currency": "USD", "is_base": True},  # lists derive from it
        {"code": "M1", "currency": "EUR", "name": "x"},  # derived from a matrix feed
        {"code": "NEW", "currency": "EUR", "parent_code": "M1"},  # a matrix parent
        {"code": "SELF", "currency": "EUR", "parent_code": "SELF"},
        {"code": "LATER", "currency": "EUR", "parent_code": "NEW2"},  # defined after it
        {"code": "NEW2", "currency": "EUR"},
    ]
    answer = await bulk(pricing, "price-lists", items, mode="skip_bad_rows")
    assert outcomes(answer) == ["rejected"] * 5 + ["created"]
    assert [r["errors"][0]["field"] for r in answer.json()["rows"][:5]] == [
        "currency",
        "code",
        "parent_code",
        "parent_code",
        "parent_code",
    ]
    assert await list_codes(pricing) == ["BASE", "G1", "M1", "NEW2"]


async def test_two_batches_creating_the_same_lists_at_once_never_fail_as_500(pricing):
    items = [{"code": f"L{i}", "currency": "EUR"} for i in range(500)]
    answers = await asyncio.gather(*(bulk(pricing, "price-lists", items) for _ in range(3)))
    assert {a.status_code for a in answers} <= {200, 409}, [a.text for a in answers]
    assert any(a.status_code == 200 and a.json()["created"] == 500 for a in answers)
    assert len(await list_codes(pricing)) == 500
