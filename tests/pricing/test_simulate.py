"""POST /prices/simulate on a data set small enough to check by hand."""

from __future__ import annotations

import uuid
from decimal import Decimal

from services.pricing.events import (
    handle_order_cancelled,
    handle_order_placed,
    handle_segment_changed,
)
from shared.auth import Role
from shared.clock import utcnow
from shared.contracts.analytics import ClientSegmentChangedV1, SegmentChange
from shared.contracts.orders import OrderedLine, OrderPlacedV1
from shared.testing.fixtures import as_role, client
from tests.events import cancellation_of, order_placed
from tests.pricing.world import ADMIN, add_list, cost, feed, seed_client, seed_skus

HEADER = "list,client,sku,min_qty,price_minor,currency,valid_from,valid_to,action\n"


async def order(app, company_id, *lines: tuple[str, str, int]) -> OrderPlacedV1:
    event = order_placed(
        company_id,
        sum(int(Decimal(q) * p) for _, q, p in lines),
        lines=[
            OrderedLine(
                sku=s, quantity=Decimal(q), unit_price_minor=p, list_price_minor=p, rule="x"
            )
            for s, q, p in lines
        ],
    )
    async with app.state.sessionmaker() as session, session.begin():
        await handle_order_placed(event, session)
    return event


async def simulate(app, *rows: dict) -> dict:
    """The simulation of these proposed rows on this month's volumes."""
    async with client(app, as_role(Role.PRICING_MANAGER)) as http:
        answer = await http.post("/prices/simulate", json={"rows": list(rows), "months": 1})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def segment(app, company_id, value: str) -> None:
    event = ClientSegmentChangedV1(
        client_id=company_id,
        changes=[SegmentChange(dimension="abc_revenue", previous=None, current=value)],
        changed_at=utcnow(),
    )
    async with app.state.sessionmaker() as session, session.begin():
        await handle_segment_changed(event, session)


async def test_a_simulation_prices_actual_volumes_before_and_after_by_segment(start_app):
    app = await start_app("pricing")
    await seed_skus(app, [("S1", "Knauf", "boards"), ("S2", "Knauf", "boards")])
    await cost(app, "S1", 600)
    await add_list(app, "BASE", base=True)
    acme = await seed_client(app, external_id="ACME")
    beta = await seed_client(app, external_id="BETA")
    prices = HEADER + "BASE,,S1,1,1000,EUR,,,\nBASE,,S2,1,500,EUR,,,\n,ACME,S1,1,800,EUR,,,\n"
    assert (await feed(app, prices))["state"] == "succeeded"
    await segment(app, acme, "A")
    await segment(app, beta, "B")
    await order(app, acme, ("S1", "5", 800))
    await order(app, acme, ("S1", "5", 800))
    await order(app, beta, ("S1", "4", 1000), ("S2", "3", 500))

    found = await simulate(
        app,
        {"list": "BASE", "sku": "S1", "price_minor": 1100, "currency": "EUR"},
        {"client": "ACME", "sku": "S1", "price_minor": 760, "currency": "EUR"},
    )
    # ACME: 10 x 800 = 8,000 -> 10 x 760 = 7,600; margin 2,000 -> 1,600 (cost 600)
    # BETA:  4 x 1,000 = 4,000 -> 4 x 1,100 = 4,400; margin 1,600 -> 2,000; S2 untouched
    [total] = found["totals"]
    assert {k: total[k] for k in ("clients", "lines", "revenue_before_minor")} == {
        "clients": 2,
        "lines": 2,
        "revenue_before_minor": 12_000,
    }
    assert (total["revenue_change_minor"], total["margin_change_minor"]) == (0, 0)
    by_segment = {s["segment"]: s for s in found["by_segment"]}
    assert (
        by_segment["A"]["revenue_before_minor"],
        by_segment["A"]["revenue_after_minor"],
        by_segment["A"]["margin_after_minor"],
    ) == (8_000, 7_600, 1_600)
    assert (
        by_segment["B"]["revenue_change_minor"],
        by_segment["B"]["margin_before_minor"],
        by_segment["B"]["margin_after_minor"],
    ) == (400, 1_600, 2_000)
    assert [c["client"] for c in found["clients"]] == ["ACME", "BETA"]
    # Nothing was written: today's prices stand.
    async with client(app, ADMIN) as http:
        resolved = await http.post(
            "/prices/resolve", json={"client_id": str(beta), "lines": [{"sku": "S1"}]}
        )
    assert resolved.json()["lines"][0]["unit_price_minor"] == 1000


async def test_a_simulation_names_the_bad_row_and_refuses_buyers(start_app):
    app = await start_app("pricing")
    await seed_skus(app, [("S1", None, None)])
    await add_list(app, "BASE", base=True)
    body = {
        "rows": [
            {"list": "BASE", "sku": "S1", "price_minor": 1, "currency": "EUR"},
            {"list": "BASE", "sku": "NOPE", "price_minor": 1, "currency": "EUR"},
        ]
    }
    async with client(app, ADMIN) as http:
        bad = await http.post("/prices/simulate", json=body)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "rows[1].sku"
    assert bad.json()["errors"][0]["row"] == 2  # the second row sent
    async with client(app, as_role(Role.BUYER, company_id=uuid.uuid4())) as http:
        assert (await http.post("/prices/simulate", json=body)).status_code == 403


async def test_a_cancelled_order_stops_counting_in_simulations(start_app):
    app = await start_app("pricing")
    await seed_skus(app, [("S1", "Knauf", "boards"), ("S2", "Knauf", "boards")])
    await add_list(app, "BASE", base=True)
    acme = await seed_client(app, external_id="ACME")
    prices = HEADER + "BASE,,S1,1,1000,EUR,,,\nBASE,,S2,1,500,EUR,,,\n"
    assert (await feed(app, prices))["state"] == "succeeded"
    kept = await order(app, acme, ("S1", "2", 1000))
    gone = await order(app, acme, ("S1", "5", 1000), ("S2", "3", 500))
    # The same order told twice (a new event id) counts once.
    async with app.state.sessionmaker() as session, session.begin():
        await handle_order_placed(gone, session)

    async def simulated() -> dict:
        found = await simulate(
            app,
            {"list": "BASE", "sku": "S1", "price_minor": 1100, "currency": "EUR"},
            {"list": "BASE", "sku": "S2", "price_minor": 550, "currency": "EUR"},
        )
        return found["totals"][0]

    before = await simulated()
    assert (before["lines"], before["revenue_before_minor"]) == (2, 7 * 1000 + 3 * 500)
    cancel = cancellation_of(gone, utcnow())
    for _ in range(2):  # told twice (a replay with a new event id): taken back once
        async with app.state.sessionmaker() as session, session.begin():
            await handle_order_cancelled(cancel, session)
    after = await simulated()
    assert (after["lines"], after["revenue_before_minor"]) == (1, 2 * 1000)
    assert kept.order_id != gone.order_id
