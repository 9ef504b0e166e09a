"""Whose prices a caller reaches (`shared.scope`): a sales manager its assigned clients', the
head of sales, pricing managers and admins every client's; another's is 404 as an unknown
client. Views across clients (a simulation, a feed's diff, price versions) are narrowed to the
clients the caller reaches rather than refused. A client's people never see the floor."""

from __future__ import annotations

import uuid

import polars as pl
import pytest

from services.pricing.usecases.access import client_to_change, client_to_read
from shared.auth import Principal, Role
from shared.problems import NotFound
from shared.testing.fixtures import as_role, client
from tests.pricing.test_simulate import order
from tests.pricing.world import (
    ADMIN,
    add_list,
    call,
    cost,
    feed,
    floor,
    seed_client,
    seed_skus,
    sql,
)
from tests.reach import refused

HEADER = "list,client,sku,min_qty,price_minor,currency,valid_from,valid_to,action\n"
PRICES = HEADER + "BASE,,S1,1,1000,EUR,,,\nBASE,,S2,1,500,EUR,,,\n"
CONTRACTS = ",ACME,S1,1,800,EUR,,,\n,BETA,S1,1,850,EUR,,,\n"
CHANGE = HEADER + "BASE,,S2,1,520,EUR,,,\n,ACME,S1,1,790,EUR,,,\n,BETA,S1,1,840,EUR,,,\n"
OLGA, IVAN = uuid.uuid4(), uuid.uuid4()
PRICING_MANAGER = as_role(Role.PRICING_MANAGER)


@pytest.fixture
async def world(start_app):
    """ACME is Olga's client, BETA Ivan's; both bought S1 and S2 this month; S1 has a floor."""
    app = await start_app("pricing")
    await seed_skus(app, [("S1", "Knauf", "boards"), ("S2", "Knauf", "boards")])
    await cost(app, "S1", 600)
    await add_list(app, "BASE", base=True)
    acme = await seed_client(app, external_id="ACME", sales_manager_id=OLGA)
    beta = await seed_client(app, external_id="BETA", sales_manager_id=IVAN)
    assert (await feed(app, PRICES + CONTRACTS))["state"] == "succeeded"
    await floor(app, "S1", 700)
    await order(app, acme, ("S1", "5", 800), ("S2", "3", 500))
    await order(app, beta, ("S1", "4", 850), ("S2", "2", 500))
    return app, acme, beta


async def reads(app, headers, *paths: str) -> list:
    """The answer to a GET of each path as `headers`."""
    async with client(app, headers) as http:
        return [await http.get(path) for path in paths]


async def client_calls(app, headers, company_id) -> list:
    body = {"client_id": str(company_id), "lines": [{"sku": "S1"}]}
    resolved = await call(app, "POST", "/prices/resolve", headers, json=body)
    return [
        resolved,
        *await reads(
            app,
            headers,
            f"/prices/explain?client_id={company_id}&sku=S1",
            f"/clients/{company_id}/progress",
            f"/clients/{company_id}/price-list",
            f"/clients/{company_id}/price-lists",
            f"/clients/{company_id}/discounts",
            f"/clients/{company_id}/segment-assignments",
        ),
    ]


async def test_a_sales_manager_reads_only_its_clients_prices(world):
    app, acme, beta = world
    olga = as_role(Role.SALES_MANAGER, subject=OLGA)
    assert [a.status_code for a in await client_calls(app, olga, acme)] == [200] * 7
    assert all(refused(a) for a in await client_calls(app, olga, beta))
    for staff in (PRICING_MANAGER, ADMIN):
        for company_id in (acme, beta):
            answers = await client_calls(app, staff, company_id)
            assert [a.status_code for a in answers] == [200] * 7


async def test_a_policy_read_finds_only_a_client_the_caller_reaches(world):
    app, acme, beta = world
    olga = Principal(kind="user", subject=OLGA, roles={Role.SALES_MANAGER})
    async with app.state.sessionmaker() as session, session.begin():
        assert (await client_to_read(session, olga, acme)).company_id == acme
        assert (await client_to_read(session, olga, acme, lock=True)).company_id == acme
        with pytest.raises(NotFound):
            await client_to_read(session, olga, beta)


async def test_a_policy_write_takes_a_known_client_with_no_request_behind_it(world):
    app, acme, _ = world
    admin = Principal(kind="user", subject=uuid.uuid4(), roles={Role.ADMIN})
    async with app.state.sessionmaker() as session, session.begin():
        client = await client_to_change(app.state.upstreams, session, admin, acme)
    assert client.company_id == acme


async def simulate(app, headers, *rows: dict):
    async with client(app, headers) as http:
        return await http.post("/prices/simulate", json={"rows": list(rows), "months": 1})


async def test_a_simulation_counts_only_the_clients_the_caller_reaches(world):
    app, _, _ = world
    rise = {"list": "BASE", "sku": "S2", "price_minor": 550, "currency": "EUR"}
    whole = (await simulate(app, PRICING_MANAGER, rise)).json()
    mine = await simulate(app, as_role(Role.SALES_MANAGER, subject=OLGA), rise)
    assert mine.status_code == 200, mine.text
    assert {c["client"] for c in whole["clients"]} == {"ACME", "BETA"}
    assert {c["client"] for c in mine.json()["clients"]} == {"ACME"}
    assert [t["clients"] for t in mine.json()["totals"]] == [1]
    assert mine.json()["totals"][0]["revenue_before_minor"] == 3 * 500
    theirs = await simulate(
        app,
        as_role(Role.SALES_MANAGER, subject=OLGA),
        {"client": "BETA", "sku": "S1", "price_minor": 700, "currency": "EUR"},
    )
    assert theirs.status_code == 422  # as for an ERP id nobody knows
    assert theirs.json()["errors"][0]["field"] == "rows[0].client"


async def test_a_feeds_diff_and_the_price_versions_name_only_reachable_clients(world):
    app, _, _ = world
    dry = await feed(app, CHANGE, dry_run="true")
    olga = as_role(Role.SALES_MANAGER, subject=OLGA)
    ivan = as_role(Role.SALES_MANAGER, subject=IVAN)

    async def diff(headers) -> list[tuple[str, str]]:
        async with client(app, headers) as http:
            answer = await http.get(f"/feeds/prices/{dry['id']}/diff")
        assert answer.status_code == 200, answer.text
        rows = pl.read_csv(answer.content, infer_schema=False)
        return sorted(rows.select("kind", "target").rows())

    assert await diff(PRICING_MANAGER) == [
        ("client", "ACME"),
        ("client", "BETA"),
        ("list", "BASE"),
    ]
    assert await diff(olga) == [("client", "ACME"), ("list", "BASE")]
    assert await diff(ivan) == [("client", "BETA"), ("list", "BASE")]

    applied = await feed(app, CHANGE)
    version = applied["result"]["version"]

    async def top_clients(headers) -> tuple[set[str], set[str]]:
        async with client(app, headers) as http:
            listed = (await http.get("/price-versions")).json()["items"]
            one = (await http.get(f"/price-versions/{version}")).json()
        [latest] = [v for v in listed if v["id"] == version]
        return (
            {c["client"] for c in latest["diff"]["top_clients"]},
            {c["client"] for c in one["diff"]["top_clients"]},
        )

    assert await top_clients(PRICING_MANAGER) == ({"ACME", "BETA"}, {"ACME", "BETA"})
    assert await top_clients(olga) == ({"ACME"}, {"ACME"})


async def test_a_buyer_never_gets_the_floor_staff_do(world):
    app, acme, _ = world
    body = {"client_id": str(acme), "lines": [{"sku": "S1"}, {"sku": "S2"}]}
    explain = {"client_id": str(acme), "sku": "S1"}
    async with client(app, as_role(Role.BUYER, company_id=acme)) as http:
        bought = (await http.post("/prices/resolve", json=body)).json()
        why = (await http.get("/prices/explain", params=explain)).json()
    assert [line["unit_price_minor"] for line in bought["lines"]] == [800, 500]
    assert all("floor_minor" not in line for line in bought["lines"])
    assert why["unit_price_minor"] == 800
    assert "floor_minor" not in why and "segment_assignments" not in why
    async with client(app, as_role(Role.SALES_MANAGER, subject=OLGA)) as http:
        staff = (await http.post("/prices/resolve", json=body)).json()
        staff_why = (await http.get("/prices/explain", params=explain)).json()
    assert [line["floor_minor"] for line in staff["lines"]] == [700, None]
    assert staff_why["floor_minor"] == 700 and staff_why["segment_assignments"] == []


# A full matrix feed factors clients' own prices into derived lists: Olga's three clients share
# one price vector (each with its own uniform percent), Ivan's three another.
MATRIX_SKUS = [f"X{s:02d}" for s in range(16)]
MARKUPS = {"0": 0, "1": -300, "2": 250}


def _marked(price: int, bp: int) -> int:
    return (price * (10_000 + bp) + 5_000) // 10_000


@pytest.fixture
async def matrix_world(start_app):
    """The derived list of Olga's clients and that of Ivan's (codes), and a client of each."""
    app = await start_app("pricing")
    await seed_skus(app, [(s, None, None) for s in MATRIX_SKUS])
    await add_list(app, "BASE", base=True)
    vectors = {
        "O": {s: 1_000 + 37 * i * i for i, s in enumerate(MATRIX_SKUS)},
        "I": {s: 90_000 - 53 * i * i for i, s in enumerate(MATRIX_SKUS)},
    }
    managers = {"O": OLGA, "I": IVAN}
    companies = {}
    lines = ["BASE,,X00,1,5000,EUR,,,"]
    for team, vector in vectors.items():
        for suffix, bp in MARKUPS.items():
            name = team + suffix
            companies[name] = await seed_client(
                app, external_id=name, sales_manager_id=managers[team]
            )
            lines += [f",{name},{s},1,{_marked(p, bp)},EUR,,," for s, p in vector.items()]
    job = await feed(app, HEADER + "\n".join(lines) + "\n", scope="full")
    assert (job["state"], job["result"]["derived_lists"]) == ("succeeded", 2), job
    rows = await sql(
        app,
        "SELECT DISTINCT l.code, left(c.external_id, 1) FROM client_matrix m"
        " JOIN price_lists l ON l.id = m.list_id JOIN clients c ON c.id = m.client_id",
    )
    lists = {team: code for code, team in rows}
    assert sorted(lists) == ["I", "O"], rows  # one list per team, no list shared by both
    return app, lists, companies


async def list_reads(app, headers, code: str) -> list:
    paths = [f"/price-lists/{code}", f"/price-lists/{code}/entries", f"/price-lists/{code}/prices"]
    return await reads(app, headers, *paths)


async def test_a_matrix_list_is_its_clients_prices_read_only_by_who_reaches_one(matrix_world):
    app, lists, companies = matrix_world
    olga = as_role(Role.SALES_MANAGER, subject=OLGA)
    mine = await list_reads(app, olga, lists["O"])
    assert [a.status_code for a in mine] == [200, 200, 200], [a.text for a in mine]
    assert len(mine[1].json()["items"]) == len(MATRIX_SKUS)
    assert all(refused(a) for a in await list_reads(app, olga, lists["I"]))
    assert all(refused(a) for a in await list_reads(app, olga, "NO-SUCH-LIST"))
    assert [a.status_code for a in await list_reads(app, olga, "BASE")] == [200] * 3
    async with client(app, olga) as http:
        listed = (await http.get("/price-lists")).json()["items"]
    assert sorted(r["code"] for r in listed) == sorted(["BASE", lists["O"]])

    for code in lists.values():  # every client's, for who reaches every client
        answers = await list_reads(app, ADMIN, code)
        assert [a.status_code for a in answers] == [200] * 3
        async with client(app, PRICING_MANAGER) as http:
            assert (await http.get(f"/price-lists/{code}/entries")).status_code == 200

    # A client's people read their own prices (resolve, their price list), never a list by
    # code: not another client's matrix list, nor their own.
    buyer = as_role(Role.BUYER, company_id=companies["O0"])
    for code in (lists["I"], lists["O"]):
        assert [a.status_code for a in await list_reads(app, buyer, code)] == [403] * 3
    async with client(app, buyer) as http:
        assert (await http.get("/price-lists")).status_code == 403
