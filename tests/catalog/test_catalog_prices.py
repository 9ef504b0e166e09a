"""A catalog page with the client's prices (one batch call to the real pricing app) and stock."""

from __future__ import annotations

import uuid

import pytest

from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.catalog.world import STOCK, as_csv, feed
from tests.pricing import world as pricing_world

PRICES = "list,client,sku,min_qty,price_minor,currency,valid_from,valid_to\n"
ALPHAS_MANAGER = uuid.uuid4()


@pytest.fixture
async def stack(start_app):
    """BASE prices A-1 (tiers) and B-1; ALPHA has its own A-1 price, BETA a 10 % discount."""
    pricing = await start_app("pricing")
    await pricing_world.seed_skus(pricing, [("A-1", "Knauf", None), ("B-1", "Ceresit", None)])
    await pricing_world.add_list(pricing, "BASE", base=True)
    alpha = await pricing_world.seed_client(
        pricing, external_id="ALPHA", sales_manager_id=ALPHAS_MANAGER
    )
    beta = await pricing_world.seed_client(pricing, external_id="BETA")
    await pricing_world.discount(pricing, beta, "brand", "Knauf", "10")
    job = await pricing_world.feed(
        pricing,
        PRICES
        + "BASE,,A-1,1,1000,EUR,,\n"
        + "BASE,,A-1,12,900,EUR,,\n"
        + "BASE,,B-1,1,500,EUR,,\n"
        + ",ALPHA,A-1,1,700,EUR,,\n",
    )
    assert job["state"] == "succeeded", job
    catalog = await start_app("catalog", upstreams={"pricing": pricing})
    rows = [
        {"sku": "A-1", "name": "Board", "brand": "Knauf", "min_order_qty": "2"},
        {"sku": "B-1", "name": "Glue", "brand": "Ceresit", "min_order_qty": None},
        {"sku": "C-1", "name": "Tape", "brand": None, "min_order_qty": None},
    ]
    assert (await feed(catalog, as_csv(rows)))["state"] == "succeeded"
    stock = STOCK + "A-1,MSK,10,\nA-1,SPB,4,\nB-1,MSK,0,\n"
    assert (await feed(catalog, stock, "stock"))["state"] == "succeeded"
    return catalog, alpha, beta


def by_sku(answer) -> dict[str, dict]:
    assert answer.status_code == 200, answer.text
    return {item["sku"]: item for item in answer.json()["items"]}


async def test_each_buyer_sees_its_own_companys_prices_and_the_stock(stack):
    catalog, alpha, beta = stack
    wanted = {"include": "prices,stock"}
    async with client(catalog, as_role(Role.BUYER, company_id=alpha)) as http:
        alpha_page = by_sku(await http.get("/products", params=wanted))
    async with client(catalog, as_role(Role.COMPANY_ADMIN, company_id=beta)) as http:
        beta_page = by_sku(await http.get("/products", params=wanted))
    a = alpha_page["A-1"]
    assert (a["price"]["unit_price_minor"], a["price"]["rule"]) == (700, "contract")
    assert a["price"]["quantity"] == "2.000"  # priced at the minimum order quantity
    assert a["available"] == "14.000"
    b = beta_page["A-1"]
    assert (b["price"]["unit_price_minor"], b["price"]["list_price_minor"]) == (900, 1000)
    assert b["price"]["rule"] == "client_discount:brand:Knauf"
    # the next tier as Beta would pay it: 900 less its 10 % brand discount
    assert b["price"]["next_tier"] == {"min_qty": "12", "unit_price_minor": 810}
    assert beta_page["B-1"]["price"]["unit_price_minor"] == 500
    assert beta_page["B-1"]["available"] == "0.000"
    # C-1 is in no list: no price, and no stock rows at all.
    assert beta_page["C-1"]["price"]["unit_price_minor"] is None
    assert beta_page["C-1"]["available"] == "0.000"


async def test_a_buyer_cannot_ask_for_another_companys_prices(stack):
    catalog, alpha, beta = stack
    async with client(catalog, as_role(Role.BUYER, company_id=alpha)) as http:
        other = await http.get("/products", params={"include": "prices", "client_id": str(beta)})
        own = await http.get("/products", params={"include": "prices", "client_id": str(alpha)})
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    assert by_sku(own)["A-1"]["price"]["unit_price_minor"] == 700


async def test_a_sales_manager_sees_its_clients_prices_the_head_of_sales_all(stack):
    catalog, alpha, beta = stack
    async with client(catalog, as_role(Role.SALES_MANAGER, subject=ALPHAS_MANAGER)) as http:
        own = await http.get("/products", params={"include": "prices", "client_id": str(alpha)})
        other = await http.get("/products", params={"include": "prices", "client_id": str(beta)})
    assert by_sku(own)["A-1"]["price"]["unit_price_minor"] == 700
    assert other.status_code == 404
    async with client(catalog, as_role(Role.HEAD_OF_SALES)) as http:
        alpha_page = await http.get(
            "/products", params={"include": "prices", "client_id": str(alpha)}
        )
        beta_page = await http.get(
            "/products", params={"include": "prices", "client_id": str(beta)}
        )
    assert by_sku(alpha_page)["A-1"]["price"]["unit_price_minor"] == 700
    assert by_sku(beta_page)["A-1"]["price"]["unit_price_minor"] == 900


async def test_staff_name_the_client_and_services_need_one(stack):
    catalog, alpha, _ = stack
    async with client(catalog, as_role(Role.ADMIN)) as http:
        named = await http.get("/products", params={"include": "prices", "client_id": str(alpha)})
        unnamed = await http.get("/products", params={"include": "prices"})
        unknown = await http.get(
            "/products", params={"include": "prices", "client_id": str(uuid.uuid4())}
        )
    assert by_sku(named)["A-1"]["price"]["unit_price_minor"] == 700
    assert unnamed.status_code == 422
    assert unnamed.json()["errors"][0]["field"] == "client_id"
    # A company pricing has not heard of yet: the page, without prices.
    assert by_sku(unknown)["A-1"]["price"] is None


async def test_without_include_nothing_extra_and_bad_includes_are_named(stack):
    catalog, alpha, _ = stack
    async with client(catalog, as_role(Role.BUYER, company_id=alpha)) as http:
        plain = by_sku(await http.get("/products"))
        stock_only = by_sku(await http.get("/products", params={"include": "stock"}))
        bad = await http.get("/products", params={"include": "prices,margin"})
    assert (plain["A-1"]["price"], plain["A-1"]["available"]) == (None, None)
    assert (stock_only["A-1"]["price"], stock_only["A-1"]["available"]) == (None, "14.000")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "include"


async def test_pricing_down_is_a_503_naming_it(start_app):
    catalog = await start_app("catalog", pricing_url="http://127.0.0.1:9")
    assert (await feed(catalog, as_csv([{"sku": "A-1", "name": "A"}])))["state"] == "succeeded"
    async with client(catalog, as_role(Role.BUYER, company_id=uuid.uuid4())) as http:
        down = await http.get("/products", params={"include": "prices"})
        without = await http.get("/products", params={"include": "stock"})
    assert down.status_code == 503
    assert "pricing" in down.json()["detail"]
    assert without.status_code == 200


async def test_integrators_and_partners_cannot_read_the_catalog(stack):
    catalog, *_ = stack
    for headers in (
        as_role(Role.INTEGRATOR, kind="api_key", subject="erp"),
        as_role(Role.PARTNER, kind="api_key", subject="p", partner_code="shop"),
    ):
        async with client(catalog, headers) as http:
            assert (await http.get("/products", params={"include": "prices"})).status_code == 403
