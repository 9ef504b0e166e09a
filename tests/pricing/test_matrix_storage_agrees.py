"""A client's prices answer a delta the same whether the factoring kept them in a derived
matrix list or as contract rows (issue 19: storage is an internal detail).

Client A1 got its prices in a `scope=full` matrix feed (stored in a derived list with a
markup); client P got the very same prices as a delta (stored as contract rows). Every delta
below goes to each of them in turn, and must get the same job, report, diff and resolved
prices on every day that matters.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest

from shared.auth import Role
from shared.clock import moved_to, today, utcnow
from shared.testing.fixtures import as_role, client
from tests.pricing.world import ADMIN, ERP, add_list, feed, fetch, resolve, seed_client, seed_skus

HEADER = "list,client,sku,min_qty,price_minor,currency,valid_from,valid_to,action\n"
SKUS = [f"X{s:02d}" for s in range(16)]  # enough anchors for the factoring to link clients
MARKUPS = {"A0": 0, "A1": -300, "A2": 250, "A3": 0, "A4": -1250}
MATRIX, PLAIN = "A1", "P"
PRICING_MANAGER = as_role(Role.PRICING_MANAGER)

pytestmark = pytest.mark.dates  # validity windows: `make test-dates` runs these on its days


def marked(price: int, bp: int) -> int:
    return (price * (10_000 + bp) + 5_000) // 10_000


@pytest.fixture
async def storages(pricing):
    app = pricing
    rng = random.Random(19)
    vector = {s: rng.randint(1_000, 90_000) for s in SKUS}
    prices = {s: marked(p, MARKUPS[MATRIX]) for s, p in vector.items()}
    await seed_skus(app, [(s, None, None) for s in SKUS])
    await add_list(app, "BASE", base=True)
    ids = {name: await seed_client(app, external_id=name) for name in [*MARKUPS, PLAIN]}
    base = "".join(f"BASE,,{s},1,{p * 2},EUR,,,\n" for s, p in vector.items())
    assert (await feed(app, HEADER + base))["state"] == "succeeded"
    matrix = "".join(
        f",{c},{s},1,{marked(p, bp)},EUR,,,\n"
        for c, bp in MARKUPS.items()
        for s, p in vector.items()
    )
    job = await feed(app, HEADER + matrix, scope="full")
    assert (job["state"], job["result"]["derived_lists"]) == ("succeeded", 1), job
    plain = "".join(f",{PLAIN},{s},1,{p},EUR,,,\n" for s, p in prices.items())
    assert (await feed(app, HEADER + plain))["state"] == "succeeded"
    rows = await fetch(
        app,
        "SELECT c.external_id, (SELECT count(*) FROM contract_prices p WHERE p.client_id = c.id),"
        " EXISTS (SELECT 1 FROM client_matrix m WHERE m.client_id = c.id)"
        " FROM clients c WHERE c.external_id IN (:a, :p) ORDER BY 1",
        a=MATRIX,
        p=PLAIN,
    )
    assert [tuple(r) for r in rows] == [(MATRIX, 0, True), (PLAIN, len(SKUS), False)]
    for name in (MATRIX, PLAIN):
        answered = await resolve(app, ids[name], [(s, 1) for s in SKUS])
        assert {s: line["unit_price_minor"] for s, line in answered.items()} == prices
    return app, ids, vector, prices


async def kept(app, job: dict, what: str) -> str:
    """The job's rejections report or its kept diff (dry runs, stopped feeds), with the
    client's name (the diff's `target` column) taken out; empty if it has none."""
    if what == "report":
        if not job.get("rejections_url"):
            return ""
        async with client(app, ERP) as http:
            return (await http.get(job["rejections_url"].removeprefix("/api/pricing"))).text
    async with client(app, ADMIN) as http:
        answer = await http.get(f"/feeds/prices/{job['id']}/diff")
    if answer.status_code == 404:  # applied or rejected: no diff kept
        return ""
    assert answer.status_code == 200, answer.text
    lines = [line.split(",") for line in answer.text.splitlines()]
    return "\n".join(",".join(line[:2] + line[3:]) for line in lines)


async def answers(app, rows: str, **params) -> dict[str, tuple]:
    """Each client's job for the same delta (`{client}` in the rows names it): what the
    integrator and a reviewer see, the client's name taken out."""
    seen = {}
    for name in (MATRIX, PLAIN):
        job = await feed(app, HEADER + rows.format(client=name), **params)
        diff = dict((job.get("result") or {}).get("diff") or {})
        diff.pop("top_clients", None)
        seen[name] = (job["state"], job["rows_applied"], job["rows_rejected"], diff)
        seen[name] += (await kept(app, job, "report"), await kept(app, job, "diff"))
    return seen


async def prices_on(app, ids, sku: str, day: date) -> dict[str, int | None]:
    with moved_to(datetime.combine(day, time(12), UTC)):
        return {
            name: (await resolve(app, ids[name], [(sku, 1)]))[sku]["unit_price_minor"]
            for name in (MATRIX, PLAIN)
        }


async def test_a_dated_price_over_the_open_one_is_refused_in_both_storages(storages):
    app, ids, _, prices = storages
    sku = SKUS[3]
    start, end = today() + timedelta(days=10), today() + timedelta(days=20)
    rows = f",{{client}},{sku},1,777,EUR,{start},{end},\n"
    for params in ({"dry_run": "true"}, {}, {"mode": "skip_bad_rows"}):
        seen = await answers(app, rows, **params)
        assert seen[MATRIX] == seen[PLAIN], params
        assert "1,valid_from,overlaps a stored price valid since always," in seen[PLAIN][4]
    assert seen[PLAIN][:3] == ("succeeded", 0, 1)  # skipped
    for day in (today(), start, end):  # before, in and after the window
        assert await prices_on(app, ids, sku, day) == {MATRIX: prices[sku], PLAIN: prices[sku]}


async def test_deleting_the_open_price_lets_a_dated_one_stand_in_both_storages(storages):
    app, ids, vector, _ = storages
    sku = SKUS[4]
    start, end = today() + timedelta(days=10), today() + timedelta(days=20)
    deleted = await answers(app, f",{{client}},{sku},1,,EUR,,,delete\n")
    assert deleted[MATRIX] == deleted[PLAIN]
    seen = await answers(app, f",{{client}},{sku},1,777,EUR,{start},{end},\n")
    assert seen[MATRIX] == seen[PLAIN]
    assert seen[PLAIN][:3] == ("succeeded", 1, 0)
    base = vector[sku] * 2
    for day, want in ((today(), base), (start, 777), (end, base)):
        assert await prices_on(app, ids, sku, day) == {MATRIX: want, PLAIN: want}, day


async def test_one_delta_deletes_the_open_price_and_dates_a_new_one_in_both_storages(storages):
    """What an ERP sends in one file: the standing price is gone, this month's price is 777."""
    app, ids, vector, prices = storages
    sku = SKUS[8]
    start = today().replace(day=1)
    end = (start + timedelta(days=31)).replace(day=1)
    rows = f",{{client}},{sku},1,,EUR,,,delete\n,{{client}},{sku},1,777,EUR,{start},{end},\n"
    dry = await answers(app, rows, dry_run="true")
    assert dry[MATRIX] == dry[PLAIN]
    assert dry[PLAIN][:3] == ("succeeded", 0, 0), dry[PLAIN]
    assert (dry[PLAIN][3]["rows_added"], dry[PLAIN][3]["rows_removed"]) == (1, 1)
    assert f",{prices[sku]},," in dry[PLAIN][5] and ",,777," in dry[PLAIN][5]
    assert await prices_on(app, ids, sku, today()) == {MATRIX: prices[sku], PLAIN: prices[sku]}
    seen = await answers(app, rows)
    assert seen[MATRIX] == seen[PLAIN]
    assert seen[PLAIN][:3] == ("succeeded", 2, 0), seen[PLAIN]
    base = vector[sku] * 2  # outside the month the client has no price of its own
    for day, want in ((start - timedelta(days=1), base), (today(), 777), (end, base)):
        assert await prices_on(app, ids, sku, day) == {MATRIX: want, PLAIN: want}, day


async def test_two_dated_rows_overlapping_beside_a_delete_stay_refused_in_both_storages(storages):
    app, ids, _, prices = storages
    sku = SKUS[9]
    start = today() + timedelta(days=10)
    rows = (
        f",{{client}},{sku},1,,EUR,,,delete\n"
        f",{{client}},{sku},1,777,EUR,{start},{start + timedelta(days=20)},\n"
        f",{{client}},{sku},1,666,EUR,{start + timedelta(days=5)},,\n"  # inside row 2's window
    )
    for params in ({"dry_run": "true"}, {}):
        seen = await answers(app, rows, **params)
        assert seen[MATRIX] == seen[PLAIN], params
        assert seen[PLAIN][:3] == ("rejected", 0, 1), seen[PLAIN]
        assert "3,valid_from,overlaps the validity of row 2," in seen[PLAIN][4]
    assert await prices_on(app, ids, sku, start) == {MATRIX: prices[sku], PLAIN: prices[sku]}
    skipped = await answers(app, rows, mode="skip_bad_rows")
    assert skipped[MATRIX] == skipped[PLAIN]
    assert skipped[PLAIN][:3] == ("succeeded", 2, 1), skipped[PLAIN]
    assert await prices_on(app, ids, sku, start) == {MATRIX: 777, PLAIN: 777}


async def test_an_end_date_on_the_open_price_ends_it_in_both_storages(storages):
    app, ids, vector, prices = storages
    sku = SKUS[5]
    end = today() + timedelta(days=20)
    seen = await answers(app, f",{{client}},{sku},1,{prices[sku]},EUR,,{end},\n")
    assert seen[MATRIX] == seen[PLAIN]
    assert seen[PLAIN][:3] == ("succeeded", 1, 0)
    assert await prices_on(app, ids, sku, today()) == {MATRIX: prices[sku], PLAIN: prices[sku]}
    base = vector[sku] * 2  # after its end the client has no price of its own: the base list
    assert await prices_on(app, ids, sku, end) == {MATRIX: base, PLAIN: base}


async def test_a_change_diffs_stops_and_rolls_back_the_same_in_both_storages(storages):
    app, ids, vector, prices = storages
    changed, removed = SKUS[6], SKUS[7]
    new = prices[changed] * 3 // 2
    rows = f",{{client}},{changed},1,{new},EUR,,,\n,{{client}},{removed},1,,EUR,,,delete\n"
    dry = await answers(app, rows, dry_run="true")
    assert dry[MATRIX] == dry[PLAIN]
    assert (dry[PLAIN][3]["rows_changed"], dry[PLAIN][3]["rows_removed"]) == (1, 1)
    assert f",{prices[changed]},{new}," in dry[PLAIN][5]
    async with client(app, ADMIN) as http:
        put = await http.put("/guardrails/*", json={"max_row_change_percent": "20"})
        assert put.status_code == 200, put.text
    stopped = await answers(app, rows)
    assert stopped[MATRIX] == stopped[PLAIN]
    assert stopped[PLAIN][:2] == ("rejected", 0)
    async with client(app, ADMIN) as http:
        assert (await http.delete("/guardrails/*")).status_code == 204
    moment = utcnow()
    applied = await answers(app, rows)
    assert applied[MATRIX] == applied[PLAIN] and applied[PLAIN][:2] == ("succeeded", 2)
    for name in (MATRIX, PLAIN):
        after = await resolve(app, ids[name], [(changed, 1), (removed, 1)])
        assert after[changed]["unit_price_minor"] == new
        assert after[removed]["unit_price_minor"] == vector[removed] * 2  # the base list
    # Explained as of before the delta, and rolled back: the prices the client had.
    versions = await fetch(
        app,
        "SELECT v.id FROM price_versions v WHERE v.state = 'applied' ORDER BY v.id DESC LIMIT 2",
    )
    async with client(app, ADMIN) as http:
        for name in (MATRIX, PLAIN):
            for sku in (changed, removed):
                then = await http.get(
                    "/prices/explain",
                    params={"client_id": str(ids[name]), "sku": sku, "as_of": moment.isoformat()},
                )
                assert then.json()["unit_price_minor"] == prices[sku], (name, sku)
    async with client(app, PRICING_MANAGER) as http:
        for (version,) in versions:
            undone = await http.post(
                f"/price-versions/{version}/rollback", json={"reason": "wrong file"}
            )
            assert undone.status_code == 201, undone.text
    for name in (MATRIX, PLAIN):
        back = await resolve(app, ids[name], [(changed, 1), (removed, 1)])
        assert {s: line["unit_price_minor"] for s, line in back.items()} == {
            changed: prices[changed],
            removed: prices[removed],
        }, name
