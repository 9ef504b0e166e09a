"""Stock reservations: never oversold under concurrency, all or nothing, expiry, roles."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import text

from services.catalog.store import reservations as store
from shared.auth import Role
from shared.clock import utcnow
from shared.testing.fixtures import as_role, client
from tests.catalog.world import HEADER, STOCK, feed

ORDERS = as_role(Role.SYSTEM, kind="system", subject="orders")


async def stocked(app, **levels: str) -> None:
    """Products A-1.. with on-hand stock in MSK: stocked(app, A1="5")."""
    skus = [name.replace("1", "-1").replace("2", "-2") for name in levels]
    await feed(app, HEADER + "".join(f"{s},{s},,,,,,,\n" for s in skus))
    rows = "".join(f"{s},MSK,{q},\n" for s, q in zip(skus, levels.values(), strict=True))
    assert (await feed(app, STOCK + rows, "stock"))["state"] == "succeeded"


async def reserved(app, sku: str) -> str:
    async with app.state.sessionmaker() as session:
        value = await session.scalar(
            text("SELECT reserved FROM stock_levels WHERE sku = :s"), {"s": sku}
        )
    return str(value)


async def reserved_by_warehouse(app, sku: str) -> dict[str, str]:
    async with app.state.sessionmaker() as session:
        rows = await session.execute(
            text("SELECT warehouse, reserved FROM stock_levels WHERE sku = :s"), {"s": sku}
        )
    return {warehouse: str(quantity) for warehouse, quantity in rows}


def body(reference: str, *lines: tuple[str, str], ttl: int = 15) -> dict:
    return {
        "reference": reference,
        "ttl_minutes": ttl,
        "lines": [{"sku": s, "quantity": q} for s, q in lines],
    }


async def test_the_last_units_are_never_oversold_under_concurrent_checkouts(catalog):
    await stocked(catalog, A1="5")

    async def checkout(n: int) -> int:
        async with client(catalog, ORDERS) as http:
            answer = await http.post("/reservations", json=body(f"checkout-{n}", ("A-1", "1")))
            return answer.status_code

    statuses = await asyncio.gather(*(checkout(n) for n in range(20)))
    assert sorted(statuses) == [201] * 5 + [409] * 15
    assert await reserved(catalog, "A-1") == "5.000"


async def test_all_lines_or_none_and_the_problem_names_the_short_line(catalog):
    await stocked(catalog, A1="5", B2="1")
    async with client(catalog, ORDERS) as http:
        short = await http.post("/reservations", json=body("c-1", ("A-1", "2"), ("B-2", "3")))
    assert short.status_code == 409
    assert short.json()["errors"] == [
        {"field": "quantity", "message": "only 1.000 of B-2 available", "row": 2}
    ]
    assert (await reserved(catalog, "A-1"), await reserved(catalog, "B-2")) == ("0.000", "0.000")


async def test_release_confirm_and_the_same_reference_twice(catalog):
    await stocked(catalog, A1="5")
    async with client(catalog, ORDERS) as http:
        first = await http.post("/reservations", json=body("order-7", ("A-1", "2")))
        again = await http.post("/reservations", json=body("order-7", ("A-1", "2")))
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"]
        assert first.json()["lines"] == [{"sku": "A-1", "warehouse": "MSK", "quantity": "2.000"}]
        assert await reserved(catalog, "A-1") == "2.000"
        rid = first.json()["id"]
        confirmed = await http.post(f"/reservations/{rid}/confirm")
        assert confirmed.json()["state"] == "confirmed"
        released = await http.delete(f"/reservations/{rid}")
        assert (await http.delete(f"/reservations/{rid}")).status_code == 204
        assert (await http.get(f"/reservations/{rid}")).json()["state"] == "released"
    assert released.status_code == 204
    assert "content-type" not in released.headers and released.content == b""
    assert await reserved(catalog, "A-1") == "0.000"


async def test_a_reference_gives_back_what_it_holds_even_confirmed_and_none_is_fine(catalog):
    """A checkout that crashed before it kept the reservation's id releases by its own id."""
    await stocked(catalog, A1="5")
    async with client(catalog, ORDERS) as http:
        held = (await http.post("/reservations", json=body("checkout-3", ("A-1", "3")))).json()
        await http.post(f"/reservations/{held['id']}/confirm")
        gone = await http.delete("/reservations", params={"reference": "checkout-3"})
        assert gone.status_code == 204
        assert (await http.get(f"/reservations/{held['id']}")).json()["state"] == "released"
        never = await http.delete("/reservations", params={"reference": "checkout-none"})
        assert never.status_code == 204
    assert await reserved(catalog, "A-1") == "0.000"


async def test_an_unconfirmed_reservation_expires_and_cannot_be_confirmed(catalog):
    await stocked(catalog, A1="5")
    async with client(catalog, ORDERS) as http:
        held = (await http.post("/reservations", json=body("c-9", ("A-1", "4"), ttl=1))).json()
    async with catalog.state.sessionmaker() as session, session.begin():
        assert await store.expire_due(session, utcnow() + timedelta(minutes=2)) == 1
    assert await reserved(catalog, "A-1") == "0.000"
    async with client(catalog, ORDERS) as http:
        late = await http.post(f"/reservations/{held['id']}/confirm")
        assert late.status_code == 409
        assert (await http.get(f"/reservations/{held['id']}")).json()["state"] == "expired"
    async with catalog.state.sessionmaker() as session:
        events = await session.scalar(
            text("SELECT count(*) FROM outbox WHERE type LIKE '%stock.released.v1'")
        )
    assert events == 1


async def test_only_the_orders_service_and_admins_hold_stock(catalog):
    await stocked(catalog, A1="5")
    for headers in (
        as_role(Role.BUYER, company_id=uuid.uuid4()),
        as_role(Role.INTEGRATOR, kind="api_key", subject="erp"),
        as_role(Role.PARTNER, kind="api_key", subject="market"),
    ):
        async with client(catalog, headers) as http:
            answer: httpx.Response = await http.post("/reservations", json=body("x", ("A-1", "1")))
            assert answer.status_code == 403
            assert (await http.get(f"/reservations/{uuid.uuid4()}")).status_code == 403
            refused = await http.delete("/reservations", params={"reference": "x"})
            assert refused.status_code == 403
    assert await reserved(catalog, "A-1") == "0.000"


async def test_a_line_is_split_over_warehouses_the_preferred_first_and_each_gets_its_own_back(
    catalog,
):
    """40 in MSK and 30 in SPB: 60 are there. Without a preference the warehouse with the
    most goes first; with one, it does. Release and expiry give each warehouse what it held."""
    await stocked(catalog, A1="40", B2="40")
    more = "A-1,SPB,30,\nB-2,SPB,30,\n"
    assert (await feed(catalog, STOCK + more, "stock"))["state"] == "succeeded"
    async with client(catalog, ORDERS) as http:
        plain = await http.post("/reservations", json=body("c-1", ("A-1", "60")))
        preferred = await http.post(
            "/reservations",
            json={**body("c-2", ("B-2", "60"), ttl=1), "preferred_warehouse": "SPB"},
        )
        assert (plain.status_code, preferred.status_code) == (201, 201), plain.text
        assert plain.json()["lines"] == [
            {"sku": "A-1", "warehouse": "MSK", "quantity": "40.000"},
            {"sku": "A-1", "warehouse": "SPB", "quantity": "20.000"},
        ]
        assert preferred.json()["lines"] == [
            {"sku": "B-2", "warehouse": "MSK", "quantity": "30.000"},
            {"sku": "B-2", "warehouse": "SPB", "quantity": "30.000"},
        ]
        assert await reserved_by_warehouse(catalog, "A-1") == {"MSK": "40.000", "SPB": "20.000"}
        assert await reserved_by_warehouse(catalog, "B-2") == {"MSK": "30.000", "SPB": "30.000"}
        named = {"sku": "A-1", "warehouse": "SPB", "quantity": "11"}
        short = await http.post(
            "/reservations",
            json={"reference": "c-3", "lines": [named, {"sku": "A-1", "quantity": "11"}]},
        )
        assert short.status_code == 409
        assert [e["message"] for e in short.json()["errors"]] == [
            "only 10.000 of A-1 available in SPB",
            "only 10.000 of A-1 available",
        ]
        released = await http.delete(f"/reservations/{plain.json()['id']}")
        assert released.status_code == 204
    assert await reserved_by_warehouse(catalog, "A-1") == {"MSK": "0.000", "SPB": "0.000"}
    async with catalog.state.sessionmaker() as session, session.begin():
        assert await store.expire_due(session, utcnow() + timedelta(minutes=2)) == 1
    assert await reserved_by_warehouse(catalog, "B-2") == {"MSK": "0.000", "SPB": "0.000"}


async def test_the_same_reference_racing_is_one_reservation_and_another_request_a_409(catalog):
    """Orders retries a reservation whose answer it lost while the first is still running:
    both answers are the one reservation, held once. A different request under a reference
    already used is a conflict, racing or not; never a 500."""
    await stocked(catalog, A1="50", B2="50")

    async def hold(reference: str, *lines: tuple[str, str]) -> httpx.Response:
        async with client(catalog, ORDERS) as http:
            return await http.post("/reservations", json=body(reference, *lines))

    same = await asyncio.gather(*(hold("checkout-r", ("A-1", "3")) for _ in range(6)))
    assert sorted(r.status_code for r in same) == [200] * 5 + [201], [r.text for r in same]
    assert len({r.json()["id"] for r in same}) == 1
    assert await reserved(catalog, "A-1") == "3.000"

    other = await asyncio.gather(hold("checkout-s", ("A-1", "2")), hold("checkout-s", ("B-2", "2")))
    assert sorted(r.status_code for r in other) == [201, 409], [r.text for r in other]
    refused = next(r for r in other if r.status_code == 409)
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0]["field"] == "reference"
    # Only the request that won holds stock.
    held = {await reserved(catalog, "A-1"), await reserved(catalog, "B-2")}
    assert held in ({"5.000", "0.000"}, {"3.000", "2.000"})
    again = await hold("checkout-r", ("A-1", "4"))
    assert again.status_code == 409, again.text
    assert await reserved(catalog, "A-1") in ("3.000", "5.000")


async def test_a_reservation_that_ended_is_held_again_under_its_id_only_when_renewed(catalog):
    """Orders confirms too late (the hold expired, or was given back): asked with `renew`, the
    same lines are held again under the same id, if the stock is still there; a plain retry
    still answers the reservation as it is."""
    await stocked(catalog, A1="5")
    async with client(catalog, ORDERS) as http:
        first = (await http.post("/reservations", json=body("c-r", ("A-1", "3"), ttl=1))).json()
        async with catalog.state.sessionmaker() as session, session.begin():
            assert await store.expire_due(session, utcnow() + timedelta(minutes=2)) == 1
        retry = await http.post("/reservations", json=body("c-r", ("A-1", "3")))
        assert (retry.status_code, retry.json()["state"]) == (200, "expired")
        assert await reserved(catalog, "A-1") == "0.000"
        renewed = await http.post(
            "/reservations", json={**body("c-r", ("A-1", "3")), "renew": True}
        )
        assert renewed.status_code == 201, renewed.text
        assert (renewed.json()["id"], renewed.json()["state"]) == (first["id"], "held")
        assert renewed.json()["lines"] == [{"sku": "A-1", "warehouse": "MSK", "quantity": "3.000"}]
        assert await reserved(catalog, "A-1") == "3.000"
        live = await http.post("/reservations", json={**body("c-r", ("A-1", "3")), "renew": True})
        assert (live.status_code, live.json()["id"]) == (200, first["id"])  # held: as it is
        assert await reserved(catalog, "A-1") == "3.000"
        # Held past its expiry, not yet expired by the worker: it expires, then is held again.
        async with catalog.state.sessionmaker() as session, session.begin():
            await session.execute(
                text("UPDATE reservations SET expires_at = :t WHERE reference = 'c-r'"),
                {"t": utcnow() - timedelta(minutes=1)},
            )
        late = await http.post("/reservations", json={**body("c-r", ("A-1", "3")), "renew": True})
        assert (late.status_code, late.json()["state"]) == (201, "held")
        assert await reserved(catalog, "A-1") == "3.000"
        confirmed = await http.post(f"/reservations/{first['id']}/confirm")
        assert confirmed.json()["state"] == "confirmed"
        assert (await http.delete(f"/reservations/{first['id']}")).status_code == 204
        other = await http.post("/reservations", json=body("c-other", ("A-1", "4")))
        assert other.status_code == 201
        short = await http.post("/reservations", json={**body("c-r", ("A-1", "3")), "renew": True})
        assert short.status_code == 409
        assert short.json()["errors"] == [
            {"field": "quantity", "message": "only 1.000 of A-1 available", "row": 1}
        ]
        assert (await http.get(f"/reservations/{first['id']}")).json()["state"] == "released"
    assert await reserved(catalog, "A-1") == "4.000"


async def test_a_reservation_arriving_after_its_reference_was_released_holds_nothing(catalog):
    """Orders gave up on a reservation's answer and gave back its reference before catalog
    even saw the request: when the request arrives, it is refused, and nothing is held."""
    await stocked(catalog, A1="5")
    async with client(catalog, ORDERS) as http:
        gone = await http.delete("/reservations", params={"reference": "checkout-lost"})
        assert gone.status_code == 204
        late = await http.post("/reservations", json=body("checkout-lost", ("A-1", "2")))
        assert late.status_code == 409, late.text
        assert late.json()["errors"][0]["field"] == "reference"
        again = await http.delete("/reservations", params={"reference": "checkout-lost"})
        assert again.status_code == 204
    assert await reserved(catalog, "A-1") == "0.000"
