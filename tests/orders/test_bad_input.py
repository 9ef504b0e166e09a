"""Bad input to orders is a 422 (or 404) naming the field, and changes nothing."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from sqlalchemy import func, select

from services.orders.store.models import ApprovalRule, Cart, Order, RequisitionList
from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.orders.world import ERP, new_cart

ADMIN = as_role(Role.ADMIN)
MAX_MINOR = 999_999_999_999_999  # the largest amount (shared.fields)


def offline_order(**changes) -> dict:
    order = {
        "external_id": "ERP-1",
        "client": "C1",
        "placed_at": "2026-10-01T10:00:00Z",
        "currency": "EUR",
        "lines": [{"sku": "CE-200", "quantity": "5", "unit_price_minor": 1200}],
    }
    return {"orders": [{**order, **changes}]}


async def count(app, model) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model))


def fields(answer) -> list[str]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in answer.json()["errors"]]


@pytest.mark.parametrize("typed", ["1_000", "1e3", "NaN", "Infinity", "\uff11\uff10", "10.", "-0"])
async def test_a_quantity_is_plain_digits_never_read_another_way(shop, typed):
    cart_id = await new_cart(shop, {"CE-200": "1"})
    async with shop.as_buyer() as http:
        put = await http.put(
            f"/carts/{cart_id}/lines", json={"lines": [{"sku": "CE-200", "quantity": typed}]}
        )
        pasted = await http.post(
            f"/carts/{cart_id}/quick-order",
            content=f"CE-200 {typed}",
            headers={"Content-Type": "text/plain"},
        )
        cart = (await http.get(f"/carts/{cart_id}")).json()
    assert fields(put) == ["lines[0].quantity"]
    assert pasted.json()["added"] == 0
    assert [(p["row"], p["field"]) for p in pasted.json()["problems"]] == [(1, "quantity")]
    assert [(x["sku"], x["quantity"]) for x in cart["lines"]] == [("CE-200", "1.000")]


async def test_quantities_that_add_up_past_the_largest_change_nothing(shop):
    cart_id = await new_cart(shop, {"CE-200": "999999999"})
    async with shop.as_buyer() as http:
        added = await http.put(
            f"/carts/{cart_id}/lines",
            json={"lines": [{"sku": "CE-200", "quantity": "999999999"}], "add": True},
        )
        cart = (await http.get(f"/carts/{cart_id}")).json()
    assert fields(added) == ["lines.quantity"]
    assert [x["quantity"] for x in cart["lines"]] == ["999999999.000"]


async def test_an_order_total_beyond_the_largest_amount_is_refused_not_a_500(shop):
    line = {"sku": "CE-200", "quantity": "1000", "unit_price_minor": MAX_MINOR}
    async with client(shop.orders, ERP) as http:
        refused = await http.post("/erp/offline-orders", json=offline_order(lines=[line]))
    assert fields(refused) == ["lines"]
    assert await count(shop.orders, Order) == 0


@pytest.mark.parametrize(
    "placed_at", ["9999-12-31T00:00:00Z", "1900-01-01T00:00:00Z", "2026-10-01T10:00:00"]
)
async def test_an_offline_order_dated_out_of_any_business_range_is_refused(shop, placed_at):
    async with client(shop.orders, ERP) as http:
        refused = await http.post("/erp/offline-orders", json=offline_order(placed_at=placed_at))
    assert fields(refused) == ["orders[0].placed_at"]
    assert await count(shop.orders, Order) == 0


async def test_an_erp_status_in_the_far_future_is_refused(shop):
    update = {"order": "SO-1", "status": "confirmed", "at": "9999-12-31T00:00:00Z"}
    async with client(shop.orders, ERP) as http:
        refused = await http.post("/erp/order-updates", json={"updates": [update]})
    assert fields(refused) == ["updates[0].at"]


async def test_a_currency_is_an_iso_4217_code(shop):
    async with client(shop.orders, ERP) as http:
        offline = await http.post("/erp/offline-orders", json=offline_order(currency="AAA"))
    async with client(shop.orders, as_role(Role.COMPANY_ADMIN, company_id=shop.company_id)) as http:
        rule = await http.post("/approval-rules", json={"above_minor": 100, "currency": "AAA"})
        good = await http.post("/approval-rules", json={"above_minor": 100, "currency": "EUR"})
    assert fields(offline) == ["orders[0].currency"]
    assert fields(rule) == ["currency"]
    assert good.status_code == 201, good.text
    assert await count(shop.orders, Order) == 0


@pytest.mark.parametrize("sku", ["CE\x00200", "CE-200\n", "CE\x1b[31m", "CE\x85200"])
async def test_control_characters_in_a_code_are_refused(shop, sku):
    cart_id = await new_cart(shop)
    async with shop.as_buyer() as http:
        put = await http.put(
            f"/carts/{cart_id}/lines", json={"lines": [{"sku": sku, "quantity": "1"}]}
        )
    async with client(shop.orders, ERP) as http:
        update = await http.post(
            "/erp/order-updates",
            json={"updates": [{"order": sku, "status": "confirmed", "at": "2026-11-01T00:00Z"}]},
        )
    assert fields(put) == ["lines[0].sku"]
    assert fields(update) == ["updates[0].order"]


async def test_carts_lists_and_approval_rules_need_a_company_that_exists(shop):
    nobody = str(uuid.uuid4())
    async with client(shop.orders, ADMIN) as http:
        cart = await http.post("/carts", json={"name": "Ghost", "company_id": nobody})
        listed = await http.post("/requisition-lists", json={"name": "G", "company_id": nobody})
        rule = await http.post(
            "/approval-rules", params={"company_id": nobody}, json={"buyer": "someone"}
        )
        real = await http.post("/carts", json={"name": "Real", "company_id": str(shop.company_id)})
    for answer in (cart, listed, rule):
        assert answer.status_code == 404, answer.text
        assert answer.json()["errors"][0]["field"] == "company_id"
    assert real.status_code == 201, real.text
    assert await count(shop.orders, Cart) == 1
    assert await count(shop.orders, RequisitionList) == 0
    assert await count(shop.orders, ApprovalRule) == 0


async def test_a_company_accounts_has_but_orders_has_not_heard_of_yet_is_accepted(shop):
    async with client(shop.accounts, ADMIN) as http:
        created = await http.post("/companies", json={"legal_name": "Fresh LLC"})
    fresh = created.json()["id"]  # its company.upserted event has not reached orders
    async with client(shop.orders, ADMIN) as http:
        cart = await http.post("/carts", json={"name": "Fresh", "company_id": fresh})
    assert cart.status_code == 201, cart.text


async def test_the_order_export_never_hands_a_spreadsheet_a_formula(shop):
    names = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)"]
    lines = [
        {"sku": "CE-200", "name": name, "quantity": "1", "unit_price_minor": 100} for name in names
    ]
    async with client(shop.orders, ERP) as http:
        imported = await http.post("/erp/offline-orders", json=offline_order(lines=lines))
    assert imported.status_code == 200, imported.text
    async with shop.as_buyer() as http:
        exported = await http.get("/orders/export")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["name"] for r in rows] == [f"'{name}" for name in names]
    assert {r["order_total_minor"] for r in rows} == {"400"}  # numbers stay numbers
