"""The ERP price feed: validation, atomicity, idempotency, matrix factoring, cache refresh."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, time, timedelta

import orjson
import pytest

from shared.auth import Role
from shared.clock import moved_to, today
from shared.contracts.pricing import PRICE_TOPIC
from shared.testing.fixtures import as_role, client
from shared.testing.kafka import read_topic
from tests.pricing.world import (
    ADMIN,
    ERP,
    add_list,
    feed,
    post_prices,
    resolve,
    run_jobs,
    seed_client,
    seed_skus,
    sql,
)

HEADER = "list,client,sku,min_qty,price_minor,currency,valid_from,valid_to,action\n"
NEXT_MONTH = today() + timedelta(days=30)


@pytest.fixture
async def pricing(start_app):
    app = await start_app("pricing")
    await seed_skus(app, [(f"S{i}", "Knauf" if i % 2 else "Ceresit", "glue") for i in range(1, 6)])
    await add_list(app, "BASE", base=True)
    await add_list(app, "USD-LIST", currency="USD")
    return app


async def stored(app, statement: str) -> int:
    return (await sql(app, statement))[0][0]


async def test_each_kind_of_bad_row_is_named_and_nothing_is_applied(pricing):
    app = pricing
    await seed_client(app, external_id="ACME")
    assert (await feed(app, HEADER + "BASE,,S1,1,1000,EUR,,,\n"))["state"] == "succeeded"
    bad = (
        HEADER
        + "BASE,,S1,1,2000,EUR,,,\n"  # 1 fine, would change the price
        + "BASE,,S2,1,-5,EUR,,,\n"  # 2 negative
        + "BASE,,S3,1,0,EUR,,,\n"  # 3 zero
        + "BASE,,NOPE,1,100,EUR,,,\n"  # 4 unknown SKU
        + ",GHOST,S1,1,100,EUR,,,\n"  # 5 unknown client
        + "NOLIST,,S1,1,100,EUR,,,\n"  # 6 unknown list
        + "BASE,ACME,S1,1,100,EUR,,,\n"  # 7 both
        + "BASE,,S4,1,100,euro,,,\n"  # 8 currency not ISO
        + "USD-LIST,,S4,1,100,EUR,,,\n"  # 9 not the list's currency
        + f"BASE,,S5,1,100,EUR,2026-01-01,{NEXT_MONTH},\n"  # 10 overlaps 11
        + f"BASE,,S5,1,90,EUR,{today()},,\n"  # 11
        + ",ACME,S2,1,100,EUR,,,\n"  # 12
        + ",ACME,S2,1,110,EUR,,,\n"  # 13 same cell twice
        + "BASE,,S3,1,100,EUR,2027-01-01,2026-01-01,\n"  # 14 ends before it starts
        + "BASE,,S3,abc,100,EUR,,,\n"  # 15 not a number
    )
    job = await feed(app, bad)
    assert job["state"] == "rejected" and job["rows_applied"] == 0
    async with client(app, ERP) as http:
        report = (await http.get(job["rejections_url"].removeprefix("/api/pricing"))).text
    expected = {
        "2,price_minor,must be above 0",
        "3,price_minor,must be above 0",
        "4,sku,is not a known SKU",
        "5,client,is not a known client (ERP id)",
        "6,list,is not a known price list",
        '7,client,"give either list or client, not both"',
        "8,currency,is not an ISO 4217 currency code",
        "9,currency,differs from the list's currency USD",
        f"11,valid_from,overlaps the validity of row 10,{today()}",
        "13,sku,repeats this client's price for the SKU at quantity 1",
        "14,valid_to,must be after valid_from",
        "15,min_qty,is not a decimal number",
    }
    for line in expected:
        assert line in report, (line, report)
    assert "\n1," not in report
    # Nothing changed: the old price stands, no client prices were written.
    prices = await resolve(app, await seed_client(app, external_id="LATER"), [("S1", 1)])
    assert prices["S1"]["unit_price_minor"] == 1000
    assert await stored(app, "SELECT count(*) FROM contract_prices") == 0


async def test_numbers_dates_codes_and_currencies_are_read_strictly(pricing):
    app = pricing
    bad = (
        HEADER
        + "BASE,,S1,NaN,1000,EUR,,,\n"  # 1 not a number: never the default tier 1
        + "BASE,,S2,1e3,1000,EUR,,,\n"  # 2 an exponent
        + "BASE,,S3,1_000,1000,EUR,,,\n"  # 3 a digit separator
        + "BASE,,S4,1,9223372036854775807,EUR,,,\n"  # 4 beyond the largest amount
        + "BASE,,S5,1,100,AAA,,,\n"  # 5 three letters, but no currency
        + "BASE,,S1,2,100,EUR,9999-12-31,,\n"  # 6 outside the business years
        + 'BASE,,"S1\x01",1,100,EUR,,,\n'  # 7 a control character in a code
    )
    job = await feed(app, bad)
    assert job["state"] == "rejected" and job["rows_applied"] == 0
    async with client(app, ERP) as http:
        report = (await http.get(job["rejections_url"].removeprefix("/api/pricing"))).text
    rejected = {tuple(line.split(",")[:2]) for line in report.splitlines()[1:]}
    assert rejected == {
        ("1", "min_qty"),
        ("2", "min_qty"),
        ("3", "min_qty"),
        ("4", "price_minor"),
        ("5", "currency"),
        ("6", "valid_from"),
        ("7", "sku"),
    }
    assert await stored(app, "SELECT count(*) FROM price_list_entries") == 0


async def test_skip_bad_rows_applies_the_good_ones(pricing):
    app = pricing
    job = await feed(
        app, HEADER + "BASE,,S1,1,1000,EUR,,,\nBASE,,S2,1,-1,EUR,,,\n", mode="skip_bad_rows"
    )
    assert (job["state"], job["rows_applied"], job["rows_rejected"]) == ("succeeded", 1, 1)
    assert await stored(app, "SELECT count(*) FROM price_list_entries") == 1


async def test_overlap_with_stored_prices_is_a_rejected_row(pricing):
    app = pricing
    assert (await feed(app, HEADER + "BASE,,S1,1,1000,EUR,,,\n"))["state"] == "succeeded"
    body = HEADER + f"BASE,,S1,1,900,EUR,{NEXT_MONTH},,\nBASE,,S2,1,50,EUR,,,\n"
    job = await feed(app, body)
    assert (job["state"], job["rows_rejected"]) == ("rejected", 1)
    async with client(app, ERP) as http:
        report = (await http.get(job["rejections_url"].removeprefix("/api/pricing"))).text
    assert "1,valid_from,overlaps a stored price valid since always," in report
    assert await stored(app, "SELECT count(*) FROM price_list_entries") == 1
    skipped = await feed(app, body, mode="skip_bad_rows")
    assert (skipped["state"], skipped["rows_applied"], skipped["rows_rejected"]) == (
        "succeeded",
        1,
        1,
    )
    assert await stored(app, "SELECT count(*) FROM price_list_entries") == 2


async def test_same_idempotency_key_twice_applies_once(pricing):
    app = pricing
    body = HEADER + "BASE,,S1,1,1000,EUR,,,\n"
    first = await post_prices(app, body, headers={"Idempotency-Key": "prices-1"})
    second = await post_prices(app, body, headers={"Idempotency-Key": "prices-1"})
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["id"] == second.json()["id"]
    await run_jobs(app)
    events = await stored(
        app, "SELECT count(*) FROM outbox WHERE type = 'com.b2b.price.changed.v1'"
    )
    assert events == 1


async def test_delta_upserts_deletes_and_a_full_list_snapshot(pricing):
    app = pricing
    acme = await seed_client(app, external_id="ACME")
    await feed(
        app, HEADER + "BASE,,S1,1,1000,EUR,,,\nBASE,,S2,1,2000,EUR,,,\n,ACME,S1,1,700,EUR,,,\n"
    )
    assert (await resolve(app, acme, [("S1", 1)]))["S1"]["unit_price_minor"] == 700
    job = await feed(app, HEADER + ",ACME,S1,1,,EUR,,,delete\nBASE,,S2,1,2100,EUR,,,\n")
    assert job["state"] == "succeeded", job
    prices = await resolve(app, acme, [("S1", 1), ("S2", 1)])
    assert (prices["S1"]["unit_price_minor"], prices["S2"]["unit_price_minor"]) == (1000, 2100)
    # A full snapshot of BASE retires what it leaves out.
    assert (await feed(app, HEADER + "BASE,,S3,1,300,EUR,,,\n", scope="full"))[
        "state"
    ] == "succeeded"
    prices = await resolve(app, acme, [("S1", 1), ("S3", 1)])
    assert (prices["S1"]["unit_price_minor"], prices["S3"]["unit_price_minor"]) == (None, 300)


async def test_one_delta_deletes_a_list_price_and_dates_a_new_one(pricing):
    app = pricing
    acme = await seed_client(app, external_id="ACME")
    assert (await feed(app, HEADER + "BASE,,S1,1,1000,EUR,,,\n"))["state"] == "succeeded"
    start = today().replace(day=1)
    end = (start + timedelta(days=31)).replace(day=1)
    body = HEADER + f"BASE,,S1,1,,EUR,,,delete\nBASE,,S1,1,900,EUR,{start},{end},\n"
    dry = await feed(app, body, dry_run="true")
    assert (dry["state"], dry["rows_rejected"]) == ("succeeded", 0), dry
    assert (dry["result"]["diff"]["rows_added"], dry["result"]["diff"]["rows_removed"]) == (1, 1)
    assert (await resolve(app, acme, [("S1", 1)]))["S1"]["unit_price_minor"] == 1000
    job = await feed(app, body)
    assert (job["state"], job["rows_applied"]) == ("succeeded", 2), job
    for day, want in ((start - timedelta(days=1), None), (today(), 900), (end, None)):
        with moved_to(datetime.combine(day, time(12), UTC)):
            assert (await resolve(app, acme, [("S1", 1)]))["S1"]["unit_price_minor"] == want, day
    # Two real rows overlapping each other stay refused beside a delete.
    overlapping = (
        HEADER
        + "BASE,,S2,1,,EUR,,,delete\n"
        + f"BASE,,S2,1,800,EUR,{start},{end},\n"
        + f"BASE,,S2,1,700,EUR,{start + timedelta(days=5)},,\n"
    )
    refused = await feed(app, overlapping)
    assert (refused["state"], refused["rows_rejected"]) == ("rejected", 1), refused
    async with client(app, ERP) as http:
        report = (await http.get(refused["rejections_url"].removeprefix("/api/pricing"))).text
    assert "3,valid_from,overlaps the validity of row 2," in report


async def test_a_row_inside_an_earlier_longer_one_is_refused_not_only_its_neighbour(pricing):
    app = pricing
    start = today() + timedelta(days=10)
    day = [start + timedelta(days=d) for d in (0, 60, 10, 20, 30, 40)]
    body = (
        HEADER
        + f"BASE,,S1,1,1000,EUR,{day[0]},{day[1]},\n"  # 1: two months
        + f"BASE,,S1,1,900,EUR,{day[2]},{day[3]},\n"  # 2: inside 1
        + f"BASE,,S1,1,800,EUR,{day[4]},{day[5]},\n"  # 3: inside 1, after 2
    )
    job = await feed(app, body, mode="skip_bad_rows")
    assert (job["state"], job["rows_applied"], job["rows_rejected"]) == ("succeeded", 1, 2), job
    async with client(app, ERP) as http:
        report = (await http.get(job["rejections_url"].removeprefix("/api/pricing"))).text
    assert "2,valid_from,overlaps the validity of row 1," in report
    assert "3,valid_from,overlaps the validity of row 1," in report
    assert await stored(app, "SELECT count(*) FROM price_list_entries") == 1


def matrix(clients: int, skus: int, seed: int = 7) -> tuple[dict[str, dict[str, int]], str]:
    """Three price types, uniform percents, a few exceptions and holes, two unique clients."""
    rng = random.Random(seed)
    types = [[rng.randint(100, 90_000) for _ in range(skus)] for _ in range(3)]
    cells: dict[str, dict[str, int]] = {}
    for c in range(clients):
        if c >= clients - 2:
            vector = [rng.randint(100, 90_000) for _ in range(skus)]
        else:
            bp = rng.choice([0, 0, -300, 250, -1250])
            vector = [(p * (10_000 + bp) + 5_000) // 10_000 for p in types[c % 3]]
            for _ in range(rng.randint(0, 2)):
                vector[rng.randrange(skus)] = rng.randint(100, 90_000)
        row = {f"M{s}": vector[s] for s in range(skus)}
        if c % 7 == 3:
            row.pop(f"M{rng.randrange(skus)}")  # a hole: no price for this cell
        cells[f"K{c}"] = row
    lines = [f",{c},{s},1,{p},EUR,,," for c, row in cells.items() for s, p in row.items()]
    rng.shuffle(lines)
    return cells, HEADER + "\n".join(lines) + "\n"


async def test_a_full_matrix_is_stored_factored_and_answers_every_cell_exactly(pricing):
    app = pricing
    cells, body = matrix(clients=40, skus=64)
    await seed_skus(app, [(f"M{s}", None, None) for s in range(64)])
    ids = {c: await seed_client(app, external_id=c) for c in cells}
    job = await feed(app, body, scope="full")
    assert job["state"] == "succeeded", job
    result = job["result"]
    assert result["cells"] == sum(len(r) for r in cells.values())
    assert result["derived_lists"] == 3
    assert result["compression"] > 5
    assert await stored(app, "SELECT count(*) FROM contract_prices") == result["contract_rows"]
    assert await stored(app, "SELECT count(*) FROM contract_prices") < result["cells"] / 10
    assert await stored(app, "SELECT count(*) FROM matrix_gaps") == result["gaps"] > 0
    skus = [f"M{s}" for s in range(64)]
    for name, company_id in ids.items():
        prices = await resolve(app, company_id, [(s, 1) for s in skus])
        answered = {s: prices[s]["unit_price_minor"] for s in skus}
        assert answered == {s: cells[name].get(s) for s in skus}, name
        assert {p["rule"] for p in prices.values()} <= {"contract", "no price"}


async def test_a_delta_on_a_factored_client_changes_and_deletes_single_cells(pricing):
    app = pricing
    cells, body = matrix(clients=20, skus=32, seed=11)
    await seed_skus(app, [(f"M{s}", None, None) for s in range(32)])
    ids = {c: await seed_client(app, external_id=c) for c in cells}
    assert (await feed(app, body, scope="full"))["state"] == "succeeded"
    factored = (
        await sql(
            app,
            "SELECT c.external_id FROM client_matrix m JOIN clients c ON c.id = m.client_id LIMIT 1",
        )
    )[0][0]
    sku = next(iter(cells[factored]))
    other = list(cells[factored])[1]
    job = await feed(
        app, HEADER + f",{factored},{sku},1,12345,EUR,,,\n,{factored},{other},1,,EUR,,,delete\n"
    )
    assert job["state"] == "succeeded", job
    prices = await resolve(app, ids[factored], [(sku, 1), (other, 1)])
    assert prices[sku]["unit_price_minor"] == 12345
    assert prices[other]["unit_price_minor"] is None


async def test_a_second_process_drops_its_cache_when_price_changed_arrives(
    start_app, kafka_bootstrap
):
    # Every wait below is bounded; the whole is too, so a stall says where it stood.
    async with asyncio.timeout(120):
        writer = await start_app("pricing", run_workers=True)
        reader = await start_app("pricing")
        await seed_skus(writer, [("S1", None, None)])
        await add_list(writer, "BASE", base=True)
        acme = await seed_client(writer, external_id="ACME")
        assert (await feed(writer, HEADER + "BASE,,S1,1,1000,EUR,,,\n"))["state"] == "succeeded"
        reader.state.price_engine.invalidate(lists=True, clients=None)
        assert (await resolve(reader, acme, [("S1", 1)]))["S1"]["unit_price_minor"] == 1000
        await asyncio.sleep(1)  # the reader's listener is at the topic's end
        async with client(writer, {**ERP, "Content-Type": "text/csv"}) as http:
            posted = await http.post("/feeds/prices", content=HEADER + "BASE,,S1,1,1100,EUR,,,\n")
        assert posted.status_code == 202
        for _ in range(100):
            if (await resolve(reader, acme, [("S1", 1)]))["S1"]["unit_price_minor"] == 1100:
                break
            await asyncio.sleep(0.1)
        assert (await resolve(reader, acme, [("S1", 1)]))["S1"]["unit_price_minor"] == 1100
        records = await read_topic(kafka_bootstrap, PRICE_TOPIC, expect=2, within=5)
        assert any(orjson.loads(r.value)["data"].get("list_codes") == ["BASE"] for r in records)


async def test_only_integrators_and_admins_post_price_feeds(pricing):
    app = pricing
    body = HEADER + "BASE,,S1,1,1000,EUR,,,\n"
    buyer = as_role(Role.BUYER, company_id=uuid.uuid4())
    partner = as_role(Role.PARTNER, kind="api_key", subject="marketplace")
    for headers in (buyer, partner, as_role(Role.SALES_MANAGER)):
        assert (await post_prices(app, body, headers=headers)).status_code == 403
    posted = await post_prices(app, body)
    async with client(app, partner) as http:
        assert (await http.get(f"/feeds/{posted.json()['id']}")).status_code == 403
    assert (await post_prices(app, body, headers=ADMIN)).status_code == 202
