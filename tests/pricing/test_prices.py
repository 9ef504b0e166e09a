"""Resolving prices over HTTP against real PostgreSQL: precedence, tiers, validity, policy."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from shared.auth import Role
from shared.clock import today
from shared.testing.fixtures import as_role, client
from tests.pricing.world import (
    ADMIN,
    ERP,
    add_list,
    assign,
    assign_group,
    discount,
    feed,
    floor,
    resolve,
    resolve_body,
    seed_client,
    seed_skus,
    sql,
)

TODAY = today()
TOMORROW = TODAY + timedelta(days=1)
HEADER = "list,client,sku,min_qty,price_minor,currency,valid_from,valid_to\n"


@pytest.fixture
async def world(pricing):
    """BASE for everyone, DEALERS for the dealers group, PROJECT assigned to ACME, tiers."""
    app = pricing
    await seed_skus(
        app, [("S1", "Knauf", "boards"), ("S2", "Knauf", "glue"), ("S3", "Ceresit", "glue")]
    )
    await add_list(app, "BASE", base=True)
    await add_list(app, "BASE-USD", base=True, currency="USD")
    await add_list(app, "DEALERS")
    await add_list(app, "PROJECT", priority=5)
    await add_list(app, "OUTLET", priority=1)
    await add_list(app, "DEALERS-PLUS", parent="DEALERS", markup_bp=250)
    acme = await seed_client(app, external_id="ACME", group_code="dealers")
    other = await seed_client(app, external_id="OTHER")
    await assign_group(app, "dealers", "DEALERS")
    await assign(app, acme, "PROJECT")
    await assign(app, acme, "OUTLET")
    job = await feed(
        app,
        HEADER
        + "BASE,,S1,1,10000,EUR,,\n"
        + "BASE,,S1,100,9000,EUR,,\n"
        + "BASE,,S2,1,5000,EUR,,\n"
        + "BASE,,S3,1,3000,EUR,,\n"
        + "BASE-USD,,S3,1,3300,USD,,\n"
        + "DEALERS,,S1,1,9500,EUR,,\n"
        + "DEALERS,,S2,1,4800,EUR,,\n"
        + "OUTLET,,S2,1,4700,EUR,,\n"
        + "PROJECT,,S2,10,4000,EUR,,\n"
        + f"PROJECT,,S3,1,2500,EUR,{TOMORROW},\n",
    )
    assert job["state"] == "succeeded", job
    return {"app": app, "acme": acme, "other": other}


async def test_precedence_contract_then_assigned_by_priority_then_group_then_base(world):
    app, acme, other = world["app"], world["acme"], world["other"]
    assert (await feed(app, HEADER + ",ACME,S1,1,8000,EUR,,\n"))["state"] == "succeeded"
    acme_prices = await resolve(app, acme, [("S1", 1), ("S2", 1), ("S2", 10), ("S3", 1)])
    assert (acme_prices["S1"]["unit_price_minor"], acme_prices["S1"]["rule"]) == (8000, "contract")
    # PROJECT (priority 5) has S2 only from 10; OUTLET (priority 1) wins below that.
    assert acme_prices["S3"]["rule"] == "base_list:BASE"  # PROJECT's S3 starts tomorrow
    other_prices = await resolve(app, other, [("S1", 1), ("S2", 1)])
    assert (other_prices["S1"]["unit_price_minor"], other_prices["S1"]["rule"]) == (
        10000,
        "base_list:BASE",
    )
    one = await resolve(app, acme, [("S2", 1)])
    ten = await resolve(app, acme, [("S2", 10)])
    assert (one["S2"]["unit_price_minor"], one["S2"]["rule"]) == (4700, "assigned_list:OUTLET")
    assert (ten["S2"]["unit_price_minor"], ten["S2"]["rule"]) == (4000, "assigned_list:PROJECT")
    await sql(app, "DELETE FROM client_price_lists")
    group = await resolve(app, acme, [("S1", 1), ("S2", 1)])
    assert (group["S2"]["unit_price_minor"], group["S2"]["rule"]) == (4800, "group_list:DEALERS")


async def test_every_line_carries_the_base_lists_price_whatever_the_clients_terms(world):
    """A portal shows "list 100.00, yours 80.00": the contract's own price is no list price."""
    app, acme = world["app"], world["acme"]
    assert (await feed(app, HEADER + ",ACME,S1,1,8000,EUR,,\n"))["state"] == "succeeded"
    lines = await resolve(app, acme, [("S1", 100), ("S2", 10), ("S3", 1)])
    assert {
        sku: (x["unit_price_minor"], x["list_price_minor"], x["base_price_minor"])
        for sku, x in lines.items()
    } == {
        "S1": (8000, 8000, 9000),  # the contract wins every tier; the base list has 100+
        "S2": (4000, 4000, 5000),
        "S3": (3000, 3000, 3000),
    }
    async with client(app, ADMIN) as http:
        why = await http.get(
            "/prices/explain", params={"client_id": str(acme), "sku": "S1", "quantity": "1"}
        )
    assert (why.json()["unit_price_minor"], why.json()["base_price_minor"]) == (8000, 10000)


async def test_tiers_next_tier_validity_and_currency(world):
    app, other = world["app"], world["other"]
    below = await resolve(app, other, [("S1", "99.5")])
    assert below["S1"]["unit_price_minor"] == 10000
    assert below["S1"]["next_tier"] == {"min_qty": "100", "unit_price_minor": 9000}
    at = await resolve(app, other, [("S1", 100)])
    assert (at["S1"]["unit_price_minor"], at["S1"]["next_tier"]) == (9000, None)
    acme = world["acme"]
    tomorrow = await resolve(app, acme, [("S3", 1)], date=TOMORROW.isoformat())
    assert (tomorrow["S3"]["unit_price_minor"], tomorrow["S3"]["rule"]) == (
        2500,
        "assigned_list:PROJECT",
    )
    usd = await resolve(app, other, [("S3", 1), ("S1", 1)], currency="USD")
    assert usd["S3"]["unit_price_minor"] == 3300
    assert (usd["S1"]["unit_price_minor"], usd["S1"]["rule"]) == (None, "no price")
    unknown = await resolve(app, other, [("NOPE", 1)])
    assert (unknown["NOPE"]["unit_price_minor"], unknown["NOPE"]["rule"]) == (None, "unknown sku")


async def test_derived_list_applies_its_markup_to_the_parent(world):
    app = world["app"]
    plus = await seed_client(app, external_id="PLUS")
    await assign(app, plus, "DEALERS-PLUS")
    prices = await resolve(app, plus, [("S1", 1)])
    assert (prices["S1"]["unit_price_minor"], prices["S1"]["rule"]) == (
        9738,
        "assigned_list:DEALERS-PLUS",
    )


async def test_discounts_stack_on_list_prices_not_on_contract_and_the_floor_holds(world):
    app, acme = world["app"], world["acme"]
    await discount(app, acme, "brand", "Knauf", "10")
    await discount(app, acme, "category", "glue", "12.5")
    await floor(app, "S2", 4200)
    assert (await feed(app, HEADER + ",ACME,S1,1,8000,EUR,,\n"))["state"] == "succeeded"
    prices = await resolve(app, acme, [("S1", 1), ("S2", 1), ("S3", 1)])
    assert (prices["S1"]["unit_price_minor"], prices["S1"]["rule"]) == (8000, "contract")
    # S2: OUTLET 4700, category glue 12.5 % beats brand 10 % -> 4113, under the floor 4200.
    assert (prices["S2"]["unit_price_minor"], prices["S2"]["list_price_minor"]) == (4200, 4700)
    assert prices["S2"]["rule"] == "floor"
    # S3: BASE 3000, glue 12.5 % -> 2625.
    assert (prices["S3"]["unit_price_minor"], prices["S3"]["rule"]) == (
        2625,
        "client_discount:category:glue",
    )


async def test_explain_gives_the_path_and_the_losers(world):
    app, acme = world["app"], world["acme"]
    async with client(app, ADMIN) as http:
        answer = await http.get(
            "/prices/explain", params={"client_id": str(acme), "sku": "S2", "quantity": "1"}
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["unit_price_minor"], body["rule"]) == (4700, "assigned_list:OUTLET")
    assert body["next_tier"] is None
    reasons = {(x["origin"], x["reason"]) for x in body["losers"]}
    assert ("PROJECT", "needs at least 10") in reasons
    assert ("DEALERS", "OUTLET comes first") in reasons
    assert ("BASE", "OUTLET comes first") in reasons
    assert {c["origin"] for c in body["candidates"]} == {"PROJECT", "OUTLET", "DEALERS", "BASE"}
    assert body["steps"][0]["rule"] == "assigned_list:OUTLET"


async def client_reads(app, headers, company_id) -> list[int]:
    """Status of each read of one client's prices: resolve, explain, progress, price list,
    and of its terms: assigned lists, discounts."""
    body = {"client_id": str(company_id), "lines": [{"sku": "S1", "quantity": "1"}]}
    async with client(app, headers) as http:
        return [
            (await http.post("/prices/resolve", json=body)).status_code,
            (
                await http.get(
                    "/prices/explain", params={"client_id": str(company_id), "sku": "S1"}
                )
            ).status_code,
            (await http.get(f"/clients/{company_id}/progress")).status_code,
            (await http.get(f"/clients/{company_id}/price-list")).status_code,
            (await http.get(f"/clients/{company_id}/price-lists")).status_code,
            (await http.get(f"/clients/{company_id}/discounts")).status_code,
        ]


async def test_a_sales_manager_reads_only_its_clients_prices_the_head_of_sales_all(world):
    app, acme, other = world["app"], world["acme"], world["other"]
    olga, ivan = uuid.uuid4(), uuid.uuid4()
    await seed_client(
        app, external_id="ACME", group_code="dealers", company_id=acme, sales_manager_id=olga
    )
    await seed_client(app, external_id="OTHER", company_id=other, sales_manager_id=ivan)
    manager = as_role(Role.SALES_MANAGER, subject=olga)
    assert await client_reads(app, manager, acme) == [200] * 6
    assert await client_reads(app, manager, other) == [404] * 6
    head = as_role(Role.HEAD_OF_SALES)
    assert await client_reads(app, head, acme) == await client_reads(app, head, other) == [200] * 6
    # OTHER handed over to Olga: hers from the next company.upserted on
    await seed_client(app, external_id="OTHER", company_id=other, sales_manager_id=olga)
    assert await client_reads(app, manager, other) == [200] * 6


async def test_roles_buyer_only_its_company_integrator_and_partner_never(world):
    app, acme, other = world["app"], world["acme"], world["other"]
    body = {"client_id": str(acme), "lines": [{"sku": "S1", "quantity": "1"}]}
    async with client(app, as_role(Role.BUYER, company_id=acme)) as http:
        assert (await http.post("/prices/resolve", json=body)).status_code == 200
    async with client(app, as_role(Role.BUYER, company_id=other)) as http:
        assert (await http.post("/prices/resolve", json=body)).status_code == 404
        explain = await http.get("/prices/explain", params={"client_id": str(acme), "sku": "S1"})
        assert explain.status_code == 404
        assert (await http.get(f"/clients/{acme}/progress")).status_code == 404
        assert (await http.get(f"/clients/{acme}/price-list")).status_code == 404
    for role, kind in ((Role.INTEGRATOR, "api_key"), (Role.PARTNER, "api_key")):
        async with client(app, as_role(role, kind=kind, subject="k")) as http:
            assert (await http.post("/prices/resolve", json=body)).status_code == 403
            assert (await http.get(f"/clients/{acme}/price-list")).status_code == 403
    async with client(app, ERP) as http:
        assert (
            await http.get("/prices/explain", params={"client_id": str(acme), "sku": "S1"})
        ).status_code == 403


async def test_a_cart_of_5000_lines_is_one_request_and_more_is_refused(world):
    app, other = world["app"], world["other"]
    lines = [("S1", 1)] * 5000
    async with client(app, ADMIN) as http:
        ok = await http.post("/prices/resolve", json=resolve_body(other, lines))
        too_many = await http.post("/prices/resolve", json=resolve_body(other, [*lines, ("S1", 1)]))
    assert ok.status_code == 200 and len(ok.json()["lines"]) == 5000
    assert {line["unit_price_minor"] for line in ok.json()["lines"]} == {10000}
    assert too_many.status_code == 422


async def test_price_list_download_csv_and_xlsx(world):
    app, acme = world["app"], world["acme"]
    async with client(app, as_role(Role.BUYER, company_id=acme)) as http:
        csv = await http.get(f"/clients/{acme}/price-list")
        xlsx = await http.get(f"/clients/{acme}/price-list", params={"format": "xlsx"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    rows = csv.text.strip().splitlines()
    assert rows[0] == "sku,unit_price_minor,list_price_minor,currency,rule"
    assert "S2,4700,4700,EUR,assigned_list:OUTLET" in rows
    assert len(rows) == 4
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


async def test_ladder_progress_discount_and_retro_bonus(world):
    app, acme = world["app"], world["acme"]
    levels = (
        '[{"threshold_minor": 0, "discount_percent": "0", "bonus_percent": "0"},'
        ' {"threshold_minor": 1000000, "discount_percent": "2", "bonus_percent": "1"},'
        ' {"threshold_minor": 5000000, "discount_percent": "5", "bonus_percent": "3"}]'
    )
    await sql(
        app,
        "INSERT INTO ladders (code, name, period, currency, levels) VALUES"
        " ('VOLUME', 'Volume', 'quarter', 'EUR', CAST(:levels AS jsonb))",
        levels=levels,
    )
    await sql(
        app,
        "INSERT INTO client_ladders (client_id, ladder_id) SELECT c.id, l.id FROM clients c,"
        " ladders l WHERE c.company_id = :c",
        c=acme,
    )
    this_month = TODAY.replace(day=1)
    last_year = this_month.replace(year=this_month.year - 1)
    await sql(
        app,
        "INSERT INTO client_turnover (client_id, month, currency, amount_minor) SELECT id, CAST(:m AS date), 'EUR',"
        " 1200000 FROM clients WHERE company_id = :c UNION ALL SELECT id, CAST(:old AS date), 'EUR', 9000000"
        " FROM clients WHERE company_id = :c",
        c=acme,
        m=this_month,
        old=last_year,
    )
    async with client(app, as_role(Role.BUYER, company_id=acme)) as http:
        answer = await http.get(f"/clients/{acme}/progress")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["ladder"], body["period"], body["turnover_minor"]) == (
        "VOLUME",
        "quarter",
        1200000,
    )
    assert body["current_level"]["threshold_minor"] == 1000000
    assert body["next_level"]["threshold_minor"] == 5000000
    assert (body["left_minor"], body["bonus_minor"]) == (3800000, 12000)
    # The level's 2 % applies to list prices: S3 on BASE 3000 -> 2940.
    prices = await resolve(app, acme, [("S3", 1)])
    assert (prices["S3"]["unit_price_minor"], prices["S3"]["rule"]) == (2940, "ladder:VOLUME")


async def test_a_price_lists_prices_for_a_day_with_tiers_and_derived_markup(world):
    app = world["app"]
    catalog = as_role(Role.SYSTEM, kind="system", subject="catalog")
    async with client(app, catalog) as http:
        base = await http.get("/price-lists/BASE/prices")
        derived = await http.get("/price-lists/DEALERS-PLUS/prices")
        project_today = await http.get("/price-lists/PROJECT/prices")
        project_tomorrow = await http.get(
            "/price-lists/PROJECT/prices", params={"date": TOMORROW.isoformat()}
        )
        unknown = await http.get("/price-lists/NOPE/prices")
    assert base.status_code == 200 and base.headers["content-type"].startswith("text/csv")
    assert base.text.splitlines() == [
        "sku,min_qty,price_minor,currency",
        "S1,1.000,10000,EUR",
        "S1,100.000,9000,EUR",
        "S2,1.000,5000,EUR",
        "S3,1.000,3000,EUR",
    ]
    # DEALERS with 2.5 % on top, rounded half up.
    assert derived.text.splitlines()[1:] == ["S1,1.000,9738,EUR", "S2,1.000,4920,EUR"]
    assert project_today.text.splitlines()[1:] == ["S2,10.000,4000,EUR"]
    assert project_tomorrow.text.splitlines()[1:] == ["S2,10.000,4000,EUR", "S3,1.000,2500,EUR"]
    assert unknown.status_code == 404
    # The same from the loaded book as from the database while it loads.
    engine = app.state.price_engine
    if engine._entries_task is not None:
        await engine._entries_task
    assert engine.book.entries is not None
    async with client(app, catalog) as http:
        assert (await http.get("/price-lists/DEALERS-PLUS/prices")).text == derived.text
        assert (await http.get("/price-lists/BASE/prices")).text == base.text


async def test_a_price_lists_prices_are_for_staff_and_services(world):
    app = world["app"]
    for headers in (
        as_role(Role.BUYER, company_id=world["acme"]),
        as_role(Role.PARTNER, kind="api_key", subject="k", partner_code="shop"),
        ERP,
    ):
        async with client(app, headers) as http:
            assert (await http.get("/price-lists/BASE/prices")).status_code == 403
    async with client(app, as_role(Role.SALES_MANAGER)) as http:
        assert (await http.get("/price-lists/BASE/prices")).status_code == 200
