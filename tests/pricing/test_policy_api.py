"""The commercial-policy admin API over HTTP, against real PostgreSQL: lists, assignments,
discounts, floors, promotions, ladders, who may do what, and the event each write records."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from shared.auth import Role
from shared.clock import today
from shared.testing.fixtures import as_role
from tests.pricing.world import call, fetch, price_changes, seed_client, seed_skus

ADMIN = as_role(Role.ADMIN)
MANAGER_ID = uuid.uuid4()
MANAGER = as_role(Role.SALES_MANAGER, subject=MANAGER_ID)  # the clients' own, where it matters
OUTSIDERS = {
    "buyer": as_role(Role.BUYER, company_id=uuid.uuid4()),
    "company_admin": as_role(Role.COMPANY_ADMIN, company_id=uuid.uuid4()),
    "integrator": as_role(Role.INTEGRATOR, kind="api_key", subject="erp-key"),
    "partner": as_role(Role.PARTNER, kind="api_key", subject="mp-key", partner_code="mp"),
}
TODAY = today()


async def create_list(app, code: str, **fields):
    answer = await call(
        app, "POST", "/price-lists", json={"code": code, "currency": "EUR", **fields}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def sql(app, statement: str, **params) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(text(statement), params)


def field_errors(answer) -> set[str]:
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.text
    return {e["field"] for e in answer.json()["errors"]}


# Who may do what -----------------------------------------------------------------------------

READS = [
    ("GET", "/price-lists", None),
    ("GET", "/floor-prices", None),
    ("GET", "/promotions", None),
    ("GET", "/ladders", None),
    ("GET", "/client-groups/dealers/price-lists", None),
]
WRITES = [
    ("POST", "/price-lists", {"code": "X", "currency": "EUR"}),
    ("PATCH", "/price-lists/X", {"name": "x"}),
    ("DELETE", "/price-lists/X", None),
    ("PUT", f"/clients/{uuid.uuid4()}/price-lists", {"list_codes": []}),
    ("PUT", "/client-groups/dealers/price-lists", {"list_codes": []}),
    ("PUT", f"/clients/{uuid.uuid4()}/discounts", {"discounts": []}),
    ("PUT", "/floor-prices/S1", {"currency": "EUR", "price_minor": 1}),
    ("DELETE", "/floor-prices/S1?currency=EUR", None),
    ("POST", "/promotions", {"code": "P"}),
    ("DELETE", "/promotions/P", None),
    ("POST", "/ladders", {"code": "L"}),
    ("PUT", f"/clients/{uuid.uuid4()}/ladder", {"ladder_code": "L"}),
    ("DELETE", f"/clients/{uuid.uuid4()}/ladder", None),
]


@pytest.mark.parametrize("who", sorted(OUTSIDERS))
async def test_clients_integrators_and_partners_are_refused(pricing, who):
    for method, path, body in READS + WRITES:
        answer = await call(pricing, method, path, OUTSIDERS[who], json=body)
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert await price_changes(pricing) == []


async def test_sales_managers_read_but_only_admins_write(pricing):
    for method, path, body in READS:
        assert (await call(pricing, method, path, MANAGER, json=body)).status_code == 200, path
    for method, path, body in WRITES:
        answer = await call(pricing, method, path, MANAGER, json=body)
        assert answer.status_code == 403, (method, path, answer.text)


async def test_no_principal_is_401(pricing):
    assert (await call(pricing, "GET", "/price-lists", headers={})).status_code == 401


# Price lists ---------------------------------------------------------------------------------


async def test_create_read_update_and_delete_a_list(pricing):
    answer = await call(
        pricing,
        "POST",
        "/price-lists",
        json={
            "code": "DEALERS",
            "name": "Dealers",
            "currency": "EUR",
            "priority": 5,
            "valid_from": str(TODAY),
            "valid_to": str(TODAY + timedelta(days=30)),
        },
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["location"] == "/price-lists/DEALERS"
    created = answer.json()
    assert created["priority"] == 5 and created["markup_percent"] == "0.00"
    assert created["is_matrix"] is False and created["parent_code"] is None

    got = await call(pricing, "GET", answer.headers["location"], MANAGER)
    assert got.status_code == 200 and got.json() == created

    patched = await call(
        pricing, "PATCH", "/price-lists/DEALERS", json={"name": "Dealers 2026", "is_base": True}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Dealers 2026" and patched.json()["is_base"] is True
    assert patched.json()["priority"] == 5  # untouched

    assert (await call(pricing, "DELETE", "/price-lists/DEALERS")).status_code == 204
    assert (await call(pricing, "GET", "/price-lists/DEALERS")).status_code == 404
    assert (await call(pricing, "DELETE", "/price-lists/DEALERS")).status_code == 404

    changes = await price_changes(pricing)
    assert [c["cause"] for c in changes] == [
        "price_list.created",
        "price_list.updated",
        "price_list.deleted",
    ]
    assert all(c["list_codes"] == ["DEALERS"] and c["client_ids"] == [] for c in changes)


async def test_a_duplicate_code_is_409_and_records_nothing(pricing):
    await create_list(pricing, "BASE", is_base=True)
    answer = await call(pricing, "POST", "/price-lists", json={"code": "BASE", "currency": "EUR"})
    assert answer.status_code == 409
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert len(await price_changes(pricing)) == 1


async def test_bad_list_bodies_name_the_field(pricing):
    cases = [
        ({"code": "A", "currency": "eur"}, "currency"),
        ({"code": "A", "currency": "EURO"}, "currency"),
        ({"code": "A b", "currency": "EUR"}, "code"),
        ({"code": "A", "currency": "EUR", "markup_percent": "2.50"}, "markup_percent"),
        (
            {"code": "A", "currency": "EUR", "valid_from": "2026-02-01", "valid_to": "2026-02-01"},
            "valid_to",
        ),
        ({"code": "A", "currency": "EUR", "parent_code": "NOPE"}, "parent_code"),
    ]
    for body, field in cases:
        answer = await call(pricing, "POST", "/price-lists", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert field in field_errors(answer), (body, answer.json())


async def test_a_derived_list_has_its_parents_currency_and_markup_in_basis_points(pricing):
    await create_list(pricing, "BASE", is_base=True)
    await create_list(pricing, "BASE-USD", currency="USD")
    derived = await create_list(pricing, "PLUS", parent_code="BASE", markup_percent="2.50")
    assert derived["parent_code"] == "BASE" and derived["markup_percent"] == "2.50"
    minus = await create_list(pricing, "MINUS", parent_code="BASE", markup_percent="-5")
    assert minus["markup_percent"] == "-5.00"
    stored = await fetch(pricing, "SELECT code, markup_bp FROM price_lists ORDER BY code")
    assert dict(stored) == {"BASE": 0, "BASE-USD": 0, "MINUS": -500, "PLUS": 250}

    wrong = await call(
        pricing,
        "POST",
        "/price-lists",
        json={"code": "X", "currency": "EUR", "parent_code": "BASE-USD"},
    )
    assert wrong.status_code == 422 and field_errors(wrong) == {"parent_code"}
    too_precise = await call(
        pricing,
        "POST",
        "/price-lists",
        json={"code": "X", "currency": "EUR", "parent_code": "BASE", "markup_percent": "1.005"},
    )
    assert too_precise.status_code == 422 and field_errors(too_precise) == {"markup_percent"}


async def test_no_list_may_derive_from_itself(pricing):
    await create_list(pricing, "A")
    await create_list(pricing, "B", parent_code="A")
    await create_list(pricing, "C", parent_code="B")
    for code, parent in (("A", "C"), ("A", "A"), ("B", "C")):
        answer = await call(pricing, "PATCH", f"/price-lists/{code}", json={"parent_code": parent})
        assert answer.status_code == 422, answer.text
        assert field_errors(answer) == {"parent_code"}
    # Re-parenting C straight onto A is fine, and standing alone drops the markup.
    moved = await call(
        pricing, "PATCH", "/price-lists/C", json={"parent_code": "A", "markup_percent": "3"}
    )
    assert moved.status_code == 200 and moved.json()["markup_percent"] == "3.00"
    alone = await call(pricing, "PATCH", "/price-lists/C", json={"parent_code": None})
    assert alone.json()["parent_code"] is None and alone.json()["markup_percent"] == "0.00"


async def test_currency_and_parent_rules_on_update(pricing):
    await seed_skus(pricing, [("S1", "Knauf", "boards")])
    await create_list(pricing, "A")
    await create_list(pricing, "B", parent_code="A")
    await create_list(pricing, "OWN")
    await sql(
        pricing,
        "INSERT INTO price_list_entries (list_id, sku_id, min_qty, price_minor)"
        " SELECT l.id, s.id, 1, 100 FROM price_lists l, skus s WHERE l.code = 'OWN'",
    )
    # Lists derive from A in EUR: A keeps its currency.
    answer = await call(pricing, "PATCH", "/price-lists/A", json={"currency": "USD"})
    assert answer.status_code == 409
    # A derived list cannot leave its parent's currency.
    answer = await call(pricing, "PATCH", "/price-lists/B", json={"currency": "USD"})
    assert answer.status_code == 422 and field_errors(answer) == {"parent_code"}
    # A list with entries of its own cannot become derived.
    answer = await call(pricing, "PATCH", "/price-lists/OWN", json={"parent_code": "A"})
    assert answer.status_code == 409
    # A list others derive from cannot be deleted.
    assert (await call(pricing, "DELETE", "/price-lists/A")).status_code == 409
    # Non-nullable fields refuse null.
    answer = await call(pricing, "PATCH", "/price-lists/OWN", json={"priority": None})
    assert answer.status_code == 422 and field_errors(answer) == {"priority"}
    answer = await call(
        pricing,
        "PATCH",
        "/price-lists/OWN",
        json={"valid_to": "2000-01-01", "valid_from": "2000-01-02"},
    )
    assert answer.status_code == 422 and field_errors(answer) == {"valid_to"}
    assert [c["cause"] for c in await price_changes(pricing)] == ["price_list.created"] * 3


async def test_updating_a_parent_names_its_derived_lists(pricing):
    await create_list(pricing, "A")
    await create_list(pricing, "B", parent_code="A")
    await create_list(pricing, "C", parent_code="B")
    assert (await call(pricing, "PATCH", "/price-lists/A", json={"priority": 3})).status_code == 200
    assert (await price_changes(pricing))[-1]["list_codes"] == ["A", "B", "C"]


async def test_matrix_lists_are_read_only(pricing):
    await create_list(pricing, "BASE")
    await sql(
        pricing,
        "INSERT INTO price_lists (code, name, currency, priority, is_base, is_matrix, markup_bp,"
        " updated_at) VALUES ('MX-1', '', 'EUR', 0, false, true, 0, now())",
    )
    company = await seed_client(pricing, external_id="C-1")
    got = await call(pricing, "GET", "/price-lists/MX-1")  # a sales manager: test_scope.py
    assert got.status_code == 200 and got.json()["is_matrix"] is True
    assert (
        await call(pricing, "PATCH", "/price-lists/MX-1", json={"name": "x"})
    ).status_code == 409
    assert (await call(pricing, "DELETE", "/price-lists/MX-1")).status_code == 409
    assign = await call(
        pricing, "PUT", f"/clients/{company}/price-lists", json={"list_codes": ["BASE", "MX-1"]}
    )
    assert assign.status_code == 422 and field_errors(assign) == {"list_codes[1]"}
    assert assign.json()["errors"][0]["row"] == 2  # the second code sent
    derive = await call(
        pricing,
        "POST",
        "/price-lists",
        json={"code": "D", "currency": "EUR", "parent_code": "MX-1"},
    )
    assert derive.status_code == 422 and field_errors(derive) == {"parent_code"}
    listed = await call(pricing, "GET", "/price-lists", params={"is_matrix": "true"})
    assert [item["code"] for item in listed.json()["items"]] == ["MX-1"]


async def test_lists_are_paginated_and_filtered(pricing):
    await create_list(pricing, "A")
    await create_list(pricing, "B", parent_code="A", markup_percent="1")
    await create_list(pricing, "C", currency="USD", is_base=True)
    first = (await call(pricing, "GET", "/price-lists", params={"limit": 2})).json()
    assert [i["code"] for i in first["items"]] == ["A", "B"]
    assert first["items"][1]["parent_code"] == "A"
    second = await call(
        pricing, "GET", "/price-lists", params={"limit": 2, "cursor": first["next_cursor"]}
    )
    assert [i["code"] for i in second.json()["items"]] == ["C"]
    assert second.json()["next_cursor"] is None
    usd = await call(pricing, "GET", "/price-lists", params={"currency": "USD"})
    assert [i["code"] for i in usd.json()["items"]] == ["C"]
    base = await call(pricing, "GET", "/price-lists", params={"is_base": "true"})
    assert [i["code"] for i in base.json()["items"]] == ["C"]


async def test_entries_show_sku_codes_tiers_and_validity_page_by_page(pricing):
    await seed_skus(pricing, [("S1", "Knauf", "boards"), ("S2", "Knauf", "glue")])
    await create_list(pricing, "BASE")
    await sql(
        pricing,
        "INSERT INTO price_list_entries (list_id, sku_id, min_qty, valid_from, valid_to,"
        " price_minor) SELECT l.id, s.id, q.min_qty, q.valid_from, q.valid_to, q.price"
        " FROM price_lists l, skus s, (VALUES"
        "   ('S1', 1::numeric, '-infinity'::date, NULL::date, 1000::bigint),"
        "   ('S1', 1, '2030-01-01', NULL, 1100),"
        "   ('S1', 10, '-infinity', '2030-01-01', 900),"
        "   ('S2', 1, '-infinity', NULL, 500)"
        " ) AS q(sku, min_qty, valid_from, valid_to, price)"
        " WHERE l.code = 'BASE' AND s.sku = q.sku",
    )
    seen, cursor = [], None
    for _ in range(5):
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = await call(pricing, "GET", "/price-lists/BASE/entries", MANAGER, params=params)
        assert page.status_code == 200, page.text
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert [
        (e["sku"], e["min_qty"], e["valid_from"], e["valid_to"], e["price_minor"]) for e in seen
    ] == [
        ("S1", "1.000", None, None, 1000),
        ("S1", "1.000", "2030-01-01", None, 1100),
        ("S1", "10.000", None, "2030-01-01", 900),
        ("S2", "1.000", None, None, 500),
    ]
    only = await call(pricing, "GET", "/price-lists/BASE/entries", params={"sku": "S2"})
    assert [e["price_minor"] for e in only.json()["items"]] == [500]
    unknown = await call(pricing, "GET", "/price-lists/BASE/entries", params={"sku": "NOPE"})
    assert unknown.status_code == 422 and field_errors(unknown) == {"sku"}
    missing = await call(pricing, "GET", "/price-lists/NOPE/entries")
    assert missing.status_code == 404
    bad = await call(pricing, "GET", "/price-lists/BASE/entries", params={"cursor": "xyz"})
    assert bad.status_code == 422


# Assignments ---------------------------------------------------------------------------------


async def test_client_lists_are_replaced_and_read_in_priority_order(pricing):
    company = await seed_client(pricing, external_id="C-1", sales_manager_id=MANAGER_ID)
    await create_list(pricing, "LOW", priority=1)
    await create_list(pricing, "HIGH", priority=9)
    await create_list(pricing, "OTHER")
    path = f"/clients/{company}/price-lists"
    answer = await call(pricing, "PUT", path, json={"list_codes": ["LOW", "HIGH", "LOW"]})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"company_id": str(company), "list_codes": ["HIGH", "LOW"]}
    assert (await call(pricing, "GET", path, MANAGER)).json()["list_codes"] == ["HIGH", "LOW"]

    answer = await call(pricing, "PUT", path, json={"list_codes": ["OTHER"]})
    assert answer.json()["list_codes"] == ["OTHER"]
    unknown = await call(pricing, "PUT", path, json={"list_codes": ["OTHER", "NOPE"]})
    assert unknown.status_code == 422 and field_errors(unknown) == {"list_codes[1]"}
    assert (await call(pricing, "GET", path)).json()["list_codes"] == ["OTHER"]
    cleared = await call(pricing, "PUT", path, json={"list_codes": []})
    assert cleared.json()["list_codes"] == []

    # An unknown client's writes: test_known_clients.py (pricing asks accounts about it).
    assert (await call(pricing, "GET", f"/clients/{uuid.uuid4()}/price-lists")).status_code == 404

    changes = [c for c in await price_changes(pricing) if c["cause"].startswith("client.")]
    assert len(changes) == 3
    assert all(c["client_ids"] == [str(company)] and c["list_codes"] == [] for c in changes)
    assert changes[0]["cause"] == "client.price_lists.replaced"


async def test_group_lists_are_replaced_and_the_event_names_what_moved(pricing):
    await create_list(pricing, "A", priority=1)
    await create_list(pricing, "B", priority=2)
    await create_list(pricing, "C")
    path = "/client-groups/dealers/price-lists"
    assert (await call(pricing, "GET", path)).json() == {"group_code": "dealers", "list_codes": []}
    answer = await call(pricing, "PUT", path, json={"list_codes": ["A", "B"]})
    assert answer.json() == {"group_code": "dealers", "list_codes": ["B", "A"]}
    answer = await call(pricing, "PUT", path, json={"list_codes": ["B", "C"]})
    assert answer.json()["list_codes"] == ["B", "C"]
    assert (await call(pricing, "GET", path, MANAGER)).json()["list_codes"] == ["B", "C"]
    bad = await call(pricing, "PUT", path, json={"list_codes": ["NOPE"]})
    assert bad.status_code == 422 and field_errors(bad) == {"list_codes[0]"}
    changes = [c for c in await price_changes(pricing) if c["cause"].startswith("client_group")]
    assert [c["list_codes"] for c in changes] == [["A", "B"], ["A", "C"]]
    # Deleting a list takes it out of every assignment.
    assert (await call(pricing, "DELETE", "/price-lists/C")).status_code == 204
    assert (await call(pricing, "GET", path)).json()["list_codes"] == ["B"]


# Client discounts ----------------------------------------------------------------------------


async def test_client_discounts_are_replaced(pricing):
    company = await seed_client(pricing, external_id="C-1", sales_manager_id=MANAGER_ID)
    path = f"/clients/{company}/discounts"
    body = {
        "discounts": [
            {"scope": "brand", "value": "Knauf", "percent": "5"},
            {"scope": "category", "value": "glue", "percent": "7.25"},
        ]
    }
    answer = await call(pricing, "PUT", path, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "company_id": str(company),
        "discounts": [
            {"scope": "brand", "value": "Knauf", "percent": "5.00"},
            {"scope": "category", "value": "glue", "percent": "7.25"},
        ],
    }
    replaced = await call(
        pricing,
        "PUT",
        path,
        json={"discounts": [{"scope": "brand", "value": "Ceresit", "percent": "3"}]},
    )
    assert [d["value"] for d in replaced.json()["discounts"]] == ["Ceresit"]
    assert (await call(pricing, "GET", path, MANAGER)).json() == replaced.json()
    change = (await price_changes(pricing))[-1]
    assert change["cause"] == "client.discounts.replaced"
    assert change["client_ids"] == [str(company)] and change["rows"] == 3


@pytest.mark.parametrize(
    ("discount", "field"),
    [
        ({"scope": "brand", "value": "K", "percent": "0"}, "discounts[0].percent"),
        ({"scope": "brand", "value": "K", "percent": "100"}, "discounts[0].percent"),
        ({"scope": "brand", "value": "K", "percent": "5.001"}, "discounts[0].percent"),
        ({"scope": "sku", "value": "K", "percent": "5"}, "discounts[0].scope"),
        ({"scope": "brand", "value": "", "percent": "5"}, "discounts[0].value"),
    ],
)
async def test_bad_discounts_name_the_field(pricing, discount, field):
    company = await seed_client(pricing, external_id="C-1")
    answer = await call(
        pricing, "PUT", f"/clients/{company}/discounts", json={"discounts": [discount]}
    )
    assert answer.status_code == 422 and field in field_errors(answer), answer.text


async def test_a_discount_twice_is_refused_with_its_row(pricing):
    company = await seed_client(pricing, external_id="C-1")
    twice = {"scope": "brand", "value": "Knauf", "percent": "5"}
    answer = await call(
        pricing, "PUT", f"/clients/{company}/discounts", json={"discounts": [twice, twice]}
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "discounts[1].value"
    assert answer.json()["errors"][0]["row"] == 2
    assert await price_changes(pricing) == []


# Floors --------------------------------------------------------------------------------------


async def test_floors_are_set_listed_and_removed(pricing):
    await seed_skus(pricing, [("S1", "Knauf", "boards"), ("S2", None, None)])
    for sku, currency, price in (("S1", "EUR", 800), ("S1", "USD", 900), ("S2", "EUR", 50)):
        answer = await call(
            pricing,
            "PUT",
            f"/floor-prices/{sku}",
            json={"currency": currency, "price_minor": price},
        )
        assert answer.status_code == 200, answer.text
    answer = await call(
        pricing, "PUT", "/floor-prices/S1", json={"currency": "EUR", "price_minor": 850}
    )
    assert answer.json() == {"sku": "S1", "currency": "EUR", "price_minor": 850}

    first = (await call(pricing, "GET", "/floor-prices", MANAGER, params={"limit": 2})).json()
    rest = await call(pricing, "GET", "/floor-prices", params={"cursor": first["next_cursor"]})
    assert first["items"] + rest.json()["items"] == [
        {"sku": "S1", "currency": "EUR", "price_minor": 850},
        {"sku": "S1", "currency": "USD", "price_minor": 900},
        {"sku": "S2", "currency": "EUR", "price_minor": 50},
    ]
    only = await call(pricing, "GET", "/floor-prices", params={"sku": "S1", "currency": "USD"})
    assert [f["price_minor"] for f in only.json()["items"]] == [900]

    assert (await call(pricing, "DELETE", "/floor-prices/S1?currency=USD")).status_code == 204
    assert (await call(pricing, "DELETE", "/floor-prices/S1?currency=USD")).status_code == 404
    assert (await call(pricing, "DELETE", "/floor-prices/S1")).status_code == 422
    unknown = await call(
        pricing, "PUT", "/floor-prices/NOPE", json={"currency": "EUR", "price_minor": 1}
    )
    assert unknown.status_code == 404
    negative = await call(
        pricing, "PUT", "/floor-prices/S1", json={"currency": "EUR", "price_minor": -1}
    )
    assert negative.status_code == 422 and field_errors(negative) == {"price_minor"}

    changes = await price_changes(pricing)
    assert [c["cause"] for c in changes] == ["floor_price.set"] * 4 + ["floor_price.deleted"]
    assert all(c["policy"] is True and c["list_codes"] == [] for c in changes)
    assert changes[-1]["sku_from"] == changes[-1]["sku_to"] == "S1"


# Promotions ----------------------------------------------------------------------------------


async def test_promotions_are_created_listed_and_deleted(pricing):
    await seed_skus(pricing, [("S1", "Knauf", "boards")])
    body = {
        "code": "SPRING",
        "name": "Spring",
        "scope": "brand",
        "value": "Knauf",
        "percent": "10",
        "valid_from": str(TODAY),
        "valid_to": str(TODAY + timedelta(days=10)),
    }
    answer = await call(pricing, "POST", "/promotions", json=body)
    assert answer.status_code == 201, answer.text
    assert answer.headers["location"] == "/promotions/SPRING"
    assert answer.json() == {**body, "percent": "10.00"}
    assert (await call(pricing, "GET", "/promotions/SPRING", MANAGER)).json() == answer.json()
    later = {
        **body,
        "code": "LATER",
        "scope": "sku",
        "value": "S1",
        "valid_from": str(TODAY + timedelta(days=20)),
        "valid_to": None,
    }
    assert (await call(pricing, "POST", "/promotions", json=later)).status_code == 201

    listed = await call(pricing, "GET", "/promotions")
    assert [p["code"] for p in listed.json()["items"]] == ["LATER", "SPRING"]
    active = await call(pricing, "GET", "/promotions", params={"active_on": str(TODAY)})
    assert [p["code"] for p in active.json()["items"]] == ["SPRING"]
    by_scope = await call(pricing, "GET", "/promotions", params={"scope": "sku"})
    assert [p["code"] for p in by_scope.json()["items"]] == ["LATER"]

    assert (await call(pricing, "POST", "/promotions", json=body)).status_code == 409
    assert (await call(pricing, "DELETE", "/promotions/SPRING")).status_code == 204
    assert (await call(pricing, "DELETE", "/promotions/SPRING")).status_code == 404
    assert (await call(pricing, "GET", "/promotions/SPRING")).status_code == 404

    changes = await price_changes(pricing)
    assert [c["cause"] for c in changes] == [
        "promotion.created",
        "promotion.created",
        "promotion.deleted",
    ]
    assert all(c["policy"] is True for c in changes)
    assert changes[1]["sku_from"] == "S1"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"valid_to": "2026-01-01"}, "valid_to"),
        ({"valid_to": "2026-01-02"}, "valid_to"),
        ({"percent": "0"}, "percent"),
        ({"percent": "99.999"}, "percent"),
        ({"scope": "client"}, "scope"),
        ({"scope": "sku", "value": "NOPE"}, "value"),
    ],
)
async def test_bad_promotions_name_the_field(pricing, change, field):
    body = {
        "code": "P",
        "scope": "brand",
        "value": "Knauf",
        "percent": "10",
        "valid_from": "2026-01-02",
        "valid_to": "2026-02-01",
        **change,
    }
    answer = await call(pricing, "POST", "/promotions", json=body)
    assert answer.status_code == 422 and field in field_errors(answer), answer.text


# Ladders -------------------------------------------------------------------------------------

LADDER = {
    "code": "VOLUME",
    "name": "Volume",
    "period": "quarter",
    "currency": "EUR",
    "levels": [
        {"threshold_minor": 0, "discount_percent": "0", "bonus_percent": "0"},
        {"threshold_minor": 1_000_000, "discount_percent": "2", "bonus_percent": "0.5"},
        {"threshold_minor": 5_000_000, "discount_percent": "4.5", "bonus_percent": "1"},
    ],
}


async def test_ladders_are_created_read_and_assigned(pricing):
    answer = await call(pricing, "POST", "/ladders", json=LADDER)
    assert answer.status_code == 201, answer.text
    assert answer.headers["location"] == "/ladders/VOLUME"
    assert answer.json()["levels"][2] == {
        "threshold_minor": 5_000_000,
        "discount_percent": "4.50",
        "bonus_percent": "1.00",
    }
    assert (await call(pricing, "GET", "/ladders/VOLUME", MANAGER)).json() == answer.json()
    assert [x["code"] for x in (await call(pricing, "GET", "/ladders")).json()["items"]] == [
        "VOLUME"
    ]
    assert (await call(pricing, "POST", "/ladders", json=LADDER)).status_code == 409
    stored = await fetch(pricing, "SELECT levels FROM ladders WHERE code = 'VOLUME'")
    assert stored[0].levels[1] == {
        "threshold_minor": 1_000_000,
        "discount_percent": "2.00",
        "bonus_percent": "0.50",
    }

    company = await seed_client(pricing, external_id="C-1", sales_manager_id=MANAGER_ID)
    path = f"/clients/{company}/ladder"
    assert (await call(pricing, "GET", path)).status_code == 404
    put = await call(pricing, "PUT", path, json={"ladder_code": "VOLUME"})
    assert put.status_code == 200 and put.json() == {
        "company_id": str(company),
        "ladder_code": "VOLUME",
    }
    assert (await call(pricing, "GET", path, MANAGER)).json()["ladder_code"] == "VOLUME"
    await call(pricing, "POST", "/ladders", json={**LADDER, "code": "OTHER"})
    assert (await call(pricing, "PUT", path, json={"ladder_code": "OTHER"})).status_code == 200
    assert (await call(pricing, "GET", path)).json()["ladder_code"] == "OTHER"
    unknown = await call(pricing, "PUT", path, json={"ladder_code": "NOPE"})
    assert unknown.status_code == 422 and field_errors(unknown) == {"ladder_code"}
    assert (await call(pricing, "DELETE", path)).status_code == 204
    assert (await call(pricing, "DELETE", path)).status_code == 404

    changes = await price_changes(pricing)
    assert [c["cause"] for c in changes] == [
        "ladder.created",
        "client.ladder.assigned",
        "ladder.created",
        "client.ladder.assigned",
        "client.ladder.removed",
    ]
    assert changes[0]["policy"] is True and changes[0]["client_ids"] == []
    assert changes[1]["client_ids"] == [str(company)] and changes[1]["policy"] is False


@pytest.mark.parametrize(
    ("levels", "field"),
    [
        ([], "levels"),
        ([{"threshold_minor": 100}, {"threshold_minor": 100}], "levels"),
        ([{"threshold_minor": 200}, {"threshold_minor": 100}], "levels"),
        ([{"threshold_minor": -1}], "levels[0].threshold_minor"),
        ([{"threshold_minor": 0, "discount_percent": "100"}], "levels[0].discount_percent"),
        ([{"threshold_minor": 0, "bonus_percent": "1.234"}], "levels[0].bonus_percent"),
    ],
)
async def test_bad_ladders_name_the_field(pricing, levels, field):
    answer = await call(pricing, "POST", "/ladders", json={**LADDER, "levels": levels})
    assert answer.status_code == 422 and field in field_errors(answer), answer.text


async def test_bad_ladder_period_is_422(pricing):
    answer = await call(pricing, "POST", "/ladders", json={**LADDER, "period": "week"})
    assert answer.status_code == 422 and field_errors(answer) == {"period"}


# The edits reach prices ------------------------------------------------------------------------


async def test_a_discount_set_through_the_api_applies_to_the_next_resolve(pricing):
    await seed_skus(pricing, [("S1", "Knauf", "boards")])
    company = await seed_client(pricing, external_id="C-1")
    await create_list(pricing, "BASE", is_base=True)
    await sql(
        pricing,
        "INSERT INTO price_list_entries (list_id, sku_id, min_qty, price_minor)"
        " SELECT l.id, s.id, 1, 10000 FROM price_lists l, skus s WHERE l.code = 'BASE'",
    )
    pricing.state.price_engine.invalidate(lists=True, clients=None)  # entries written by hand

    async def price() -> int:
        answer = await call(
            pricing,
            "POST",
            "/prices/resolve",
            json={"client_id": str(company), "lines": [{"sku": "S1", "quantity": "1"}]},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["lines"][0]["unit_price_minor"]

    assert await price() == 10000
    discounts = {"discounts": [{"scope": "brand", "value": "Knauf", "percent": "10"}]}
    assert (
        await call(pricing, "PUT", f"/clients/{company}/discounts", json=discounts)
    ).status_code == 200
    assert await price() == 9000
    floor = await call(
        pricing, "PUT", "/floor-prices/S1", json={"currency": "EUR", "price_minor": 9500}
    )
    assert floor.status_code == 200
    assert await price() == 9500
