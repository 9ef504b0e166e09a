"""Supply terms from the catalog feed, and availability per line (`POST /availability` and
its use case), against real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import event, text

from services.catalog.domain.supply import Asked
from services.catalog.usecases import availability as usecase
from shared.auth import Role
from shared.clock import moved_to
from shared.contracts.catalog import ProductUpsertedV1
from shared.testing.fixtures import as_role, client
from tests.catalog.world import BUYER, ERP, STOCK, as_csv, assert_rejected, feed

LEAP_DAY = datetime(2028, 2, 29, 12, tzinfo=UTC)
NEW_YEAR = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
ORDERS = as_role(Role.SYSTEM, kind="system", subject="orders")
MANAGER = as_role(Role.SALES_MANAGER)
TERMS = ("unit", "unit_precision", "supply", "lead_time_days", "min_batch", "batch_multiple")
MEASURES = ("weight_kg", "volume_m3")


def product(sku: str, **cells: str) -> dict:
    row = {"sku": sku, "name": sku} | dict.fromkeys((*TERMS, *MEASURES), "")
    return row | cells


async def assortment(app) -> None:
    """Stocked ST-1 (pieces, 2 warehouses), made-to-order MO-1 (metres: at least 100, in 25s,
    10 days), BO-1 (both: pieces in tens, 3 days), and their stock."""
    rows = [
        product("ST-1", unit="pcs", unit_precision="0", weight_kg="12.5", volume_m3="0.0125"),
        product(
            "MO-1",
            unit="m",
            unit_precision="1",
            supply="made_to_order",
            lead_time_days="10",
            min_batch="100",
            batch_multiple="25",
        ),
        product(
            "BO-1",
            unit="pcs",
            unit_precision="0",
            supply="both",
            lead_time_days="3",
            batch_multiple="10",
        ),
    ]
    assert (await feed(app, as_csv(rows)))["state"] == "succeeded"
    stock = "ST-1,MSK,8,\nST-1,SPB,5,\nBO-1,MSK,4,\nMO-1,MSK,50,\n"
    assert (await feed(app, STOCK + stock, "stock"))["state"] == "succeeded"


async def test_the_feed_sets_supply_terms_that_the_product_and_its_event_carry(catalog):
    await assortment(catalog)
    async with client(catalog, BUYER) as http:
        stocked = (await http.get("/products/ST-1")).json()
        made = (await http.get("/products/MO-1")).json()
    assert {k: stocked[k] for k in ("supply", "lead_time_days", *MEASURES)} == {
        "supply": "stock",
        "lead_time_days": None,
        "weight_kg": "12.500",
        "volume_m3": "0.012500",
    }
    assert {k: made[k] for k in TERMS[2:]} == {
        "supply": "made_to_order",
        "lead_time_days": 10,
        "min_batch": "100.000",
        "batch_multiple": "25.000",
    }
    async with catalog.state.sessionmaker() as session:
        payload = await session.scalar(
            text(
                "SELECT payload FROM outbox WHERE type LIKE '%product.upserted.v1' "
                "AND aggregate_id = 'MO-1'"
            )
        )
    upserted = ProductUpsertedV1.model_validate(payload.get("data", payload))
    assert (upserted.supply, upserted.lead_time_days, upserted.min_batch) == (
        "made_to_order",
        10,
        Decimal(100),
    )
    # A later feed without these columns keeps them; a new product is stocked by default.
    await feed(catalog, "sku,name\nMO-1,Renamed\nNEW-1,New\n")
    async with client(catalog, BUYER) as http:
        kept = (await http.get("/products/MO-1")).json()
        new = (await http.get("/products/NEW-1")).json()
    assert (kept["name"], kept["supply"], kept["lead_time_days"]) == (
        "Renamed",
        "made_to_order",
        10,
    )
    assert (new["supply"], new["min_batch"], new["weight_kg"]) == ("stock", None, None)


async def test_bad_supply_cells_are_rejected_by_row_and_field(catalog):
    await feed(catalog, as_csv([product("OLD-1", supply="stock")]))
    rows = [
        product("A-1", supply="sometimes"),
        product("A-2", supply="made_to_order"),
        product("A-3", supply="both", lead_time_days="366"),
        product("A-4", supply="both", lead_time_days="2", min_batch="0"),
        product("A-5", unit_precision="0", batch_multiple="2.5"),
        product("A-6", weight_kg="-1"),
        product("A-7", volume_m3="5000"),
        product("OLD-1", supply="made_to_order"),  # no lead time stored either
    ]
    job = await feed(catalog, as_csv(rows))
    await assert_rejected(
        catalog,
        job,
        "1,supply,",
        "2,lead_time_days,is required when the SKU can be made to order",
        "3,lead_time_days,must be at most 365",
        "4,min_batch,must be above 0",
        "5,batch_multiple,has more decimals than unit_precision allows",
        "6,weight_kg,must be above 0",
        "7,volume_m3,must be at most 1000",
        "8,lead_time_days,is required when the SKU can be made to order",
    )
    async with catalog.state.sessionmaker() as session:
        assert await session.scalar(text("SELECT count(*) FROM products")) == 1


def asked(*lines: tuple, **request) -> dict:
    return {
        **request,
        "lines": [
            {"sku": sku, "quantity": quantity} | ({"warehouse": w[0]} if w else {})
            for sku, quantity, *w in lines
        ],
    }


async def test_stocked_made_to_order_and_both_lines_with_their_dates(catalog):
    await assortment(catalog)
    with moved_to(LEAP_DAY):
        async with client(catalog, BUYER) as http:
            answer = await http.post(
                "/availability",
                json=asked(("ST-1", "10"), ("MO-1", "130.5"), ("BO-1", "7")),
            )
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["today"], found["ok"]) == ("2028-02-29", True)
    stocked, made, both = found["lines"]
    # The most available first: MSK's 8, then 2 of SPB's 5.
    assert stocked["from_stock"] == [
        {"warehouse": "MSK", "quantity": "8", "ready_on": "2028-02-29"},
        {"warehouse": "SPB", "quantity": "2", "ready_on": "2028-02-29"},
    ]
    assert (stocked["production"], stocked["ready_on"], stocked["ok"]) == (None, "2028-02-29", True)
    # Made to order: the stock it has is not drawn; 130.5 m is produced as 150 m.
    assert made["from_stock"] == []
    assert made["production"] == {
        "needed": "130.5",
        "quantity": "150.0",
        "min_batch": "100.000",
        "batch_multiple": "25.000",
        "rounded_by": ["batch_multiple"],
        "lead_time_days": 10,
        "ready_on": "2028-03-10",
    }
    assert made["ready_on"] == "2028-03-10"
    # Both: the 4 in stock today, the other 3 produced as a batch of 10 in 3 days.
    assert both["from_stock"] == [{"warehouse": "MSK", "quantity": "4", "ready_on": "2028-02-29"}]
    assert (both["production"]["needed"], both["production"]["quantity"]) == ("3", "10")
    assert both["production"]["ready_on"] == both["ready_on"] == "2028-03-03"


async def test_dates_follow_the_clock_over_a_year_end(catalog):
    await assortment(catalog)
    with moved_to(NEW_YEAR):
        async with catalog.state.sessionmaker() as session:
            found = await usecase.lines_availability(
                session, [Asked("MO-1", Decimal(20)), Asked("ST-1", Decimal(1))]
            )
    made, stocked = found.lines
    assert str(found.today) == "2026-12-31"
    assert (str(made.production.quantity), made.production.rounded_by) == ("100.0", ["min_batch"])
    assert str(made.ready_on) == "2027-01-10"
    assert str(stocked.ready_on) == "2026-12-31"


async def test_the_preferred_warehouse_is_drawn_first_and_a_line_may_name_its_own(catalog):
    await assortment(catalog)
    async with client(catalog, ORDERS) as http:
        preferred = (
            await http.post("/availability", json=asked(("ST-1", "6"), preferred_warehouse="SPB"))
        ).json()
        named = (await http.post("/availability", json=asked(("ST-1", "6", "SPB")))).json()
    assert [(p["warehouse"], p["quantity"]) for p in preferred["lines"][0]["from_stock"]] == [
        ("SPB", "5"),
        ("MSK", "1"),
    ]
    line = named["lines"][0]
    assert (named["ok"], line["problem"], line["message"]) == (
        False,
        "short",
        "only 5 of ST-1 available in SPB",
    )


async def test_lines_that_cannot_be_served_say_so_and_the_rest_are_answered(catalog):
    await assortment(catalog)
    async with client(catalog, MANAGER) as http:
        answer = await http.post(
            "/availability",
            json=asked(("ST-1", "14"), ("NOPE", "1"), ("ST-1", "1", "MARS"), ("BO-1", "20")),
        )
    assert answer.status_code == 200, answer.text
    lines = answer.json()["lines"]
    assert [(x["row"], x["ok"], x["problem"]) for x in lines] == [
        (1, False, "short"),
        (2, False, "unknown_sku"),
        (3, False, "unknown_warehouse"),
        (4, True, None),
    ]
    assert lines[0]["message"] == "only 13 of ST-1 available"
    assert lines[3]["production"]["quantity"] == "20"  # 16 short: two batches of ten


async def test_bad_requests_are_422_naming_the_line_and_field(catalog):
    await assortment(catalog)
    async with client(catalog, BUYER) as http:
        bad_line = await http.post(
            "/availability", json={"lines": [{"sku": "ST-1", "quantity": "1"}, {"sku": "ST-1"}]}
        )
        negative = await http.post("/availability", json=asked(("ST-1", "1"), ("ST-1", "-2")))
        empty = await http.post("/availability", json={"lines": []})
        unknown = await http.post(
            "/availability", json=asked(("ST-1", "1"), preferred_warehouse="MARS")
        )
    for answer in (bad_line, negative, empty, unknown):
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert [(e["row"], e["field"]) for e in bad_line.json()["errors"]] == [(2, "lines[1].quantity")]
    assert [(e["row"], e["field"]) for e in negative.json()["errors"]] == [(2, "lines[1].quantity")]
    assert [e["field"] for e in empty.json()["errors"]] == ["lines"]
    assert [e["field"] for e in unknown.json()["errors"]] == ["preferred_warehouse"]


async def test_roles(catalog):
    for role in (Role.INTEGRATOR, Role.PARTNER):
        async with client(catalog, as_role(role)) as http:
            answer = await http.post("/availability", json=asked(("ST-1", "1")))
        assert answer.status_code == 403, role
    async with client(catalog, ERP) as http:
        assert (await http.post("/availability", json=asked(("ST-1", "1")))).status_code == 403


async def test_three_queries_whatever_the_number_of_lines(catalog):
    await assortment(catalog)
    engine = catalog.state.sessionmaker.kw["bind"].sync_engine
    statements: list[str] = []

    def counted(conn, cursor, statement, *args):
        statements.append(statement)

    lines = [Asked(sku, Decimal(1), "MSK") for sku in ("ST-1", "MO-1", "BO-1") * 100]
    event.listen(engine, "before_cursor_execute", counted)
    try:
        async with catalog.state.sessionmaker() as session:
            found = await usecase.lines_availability(session, lines, "SPB")
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    assert len(found.lines) == 300 and all(line.problem is None for line in found.lines[:12])
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 3, reads
