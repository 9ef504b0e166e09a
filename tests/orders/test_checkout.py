"""Checkout: the saga over pricing, accounts and catalog, idempotency, stock, credit, approval."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import text

from services.catalog.api.feeds import SPECS as CATALOG_FEEDS
from services.orders.clients import catalog as catalog_client
from services.orders.workers import recover_once
from shared.auth import Role
from shared.clock import utcnow
from shared.contracts.catalog import ProductUpsertedV1
from shared.testing.fixtures import as_role, client
from tests.orders.world import (
    STOCK,
    deliver_events,
    new_cart,
    open_shop,
    outbox_types,
    post_feed,
    stock_of,
)


async def checkout(shop, cart_id, key=None, headers=None):
    async with client(shop.orders, headers or shop.buyer) as http:
        return await http.post(
            f"/carts/{cart_id}/checkout",
            json={"comment": "by Friday"},
            headers={"Idempotency-Key": key or str(uuid.uuid4())},
        )


async def count(app, table: str, where: str = "true") -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(text(f"SELECT count(*) FROM {table} WHERE {where}"))


async def test_checkout_places_the_order_with_price_snapshots_and_holds_the_stock(shop):
    cart_id = await new_cart(shop, {"CE-200": "60", "KN-100": "10"})
    placed = await checkout(shop, cart_id)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "placed" and order["source"] == "portal"
    assert order["number"].startswith("SO-")
    assert order["total_minor"] == 60 * 1100 + 10 * 480
    first = order["lines"][0]
    assert (first["sku"], first["unit_price_minor"], first["list_price_minor"]) == (
        "CE-200",
        1100,
        1100,
    )
    assert first["price_rule"] == "base_list:BASE" and first["priced_on"]
    # The price version that produced the price: the price feed's, in pricing.
    async with shop.pricing.state.sessionmaker() as session:
        version = await session.scalar(text("SELECT max(id) FROM price_versions"))
    assert version and {x["price_version"] for x in order["lines"]} == {version}
    assert [h["to_status"] for h in order["history"]] == ["placed"]
    stock = await stock_of(shop, "CE-200")
    assert (stock["reserved"], stock["available"]) == ("60.000", "40.000")
    async with shop.as_buyer() as http:
        assert (await http.get(f"/carts/{cart_id}")).json()["lines"] == []
    assert await count(shop.catalog, "reservations", "state = 'confirmed'") == 1
    assert await outbox_types(shop.orders) == ["order.placed"]


async def test_the_checkout_answer_is_the_order_as_stored(shop):
    """Checkout answers from what it wrote, without reading the order back: exactly what
    GET /orders/{id} shows, snapshots, totals and history alike."""
    cart_id = await new_cart(shop, {"CE-200": "60", "KN-100": "10"})
    placed = await checkout(shop, cart_id)
    assert placed.status_code == 201, placed.text
    async with shop.as_buyer() as http:
        stored = await http.get(f"/orders/{placed.json()['id']}")
    assert stored.status_code == 200
    assert placed.json() == stored.json()
    assert [x["line_total_minor"] for x in placed.json()["lines"]] == [60 * 1100, 10 * 480]


async def test_a_retried_checkout_returns_the_same_order_and_never_orders_twice(shop):
    cart_id = await new_cart(shop, {"CE-200": "2"})
    key = str(uuid.uuid4())
    first, second = await asyncio.gather(checkout(shop, cart_id, key), checkout(shop, cart_id, key))
    assert sorted([first.status_code, second.status_code]) in ([201, 409], [200, 201], [201, 201])
    again = await checkout(shop, cart_id, key)
    created = first if first.status_code == 201 else second
    assert again.status_code in (200, 201)
    assert again.json()["id"] == created.json()["id"]
    assert await count(shop.orders, "orders") == 1
    assert (await stock_of(shop, "CE-200"))["reserved"] == "2.000"


async def test_a_refused_checkout_does_not_pin_its_key(shop):
    """Out of stock changed nothing: once the buyer fixes the cart, the same key places the
    order, and from then on returns that order."""
    cart_id = await new_cart(shop, {"CE-200": "150"})
    key = str(uuid.uuid4())
    refused = await checkout(shop, cart_id, key)
    assert refused.status_code == 409 and refused.json()["type"].endswith("/out-of-stock")
    async with shop.as_buyer() as http:
        fixed = await http.put(
            f"/carts/{cart_id}/lines", json={"lines": [{"sku": "CE-200", "quantity": "60"}]}
        )
    assert fixed.status_code == 200, fixed.text
    placed = await checkout(shop, cart_id, key)
    assert placed.status_code == 201, placed.text
    again = await checkout(shop, cart_id, key)
    assert again.status_code in (200, 201) and again.json()["id"] == placed.json()["id"]
    assert await count(shop.orders, "orders") == 1
    assert (await stock_of(shop, "CE-200"))["reserved"] == "60.000"


async def test_an_empty_cart_does_not_pin_its_key_either(shop):
    cart_id = await new_cart(shop)
    key = str(uuid.uuid4())
    empty = await checkout(shop, cart_id, key)
    assert empty.status_code == 409 and empty.json()["type"].endswith("/empty-cart")
    async with shop.as_buyer() as http:
        await http.put(
            f"/carts/{cart_id}/lines", json={"lines": [{"sku": "CE-200", "quantity": "2"}]}
        )
    assert (await checkout(shop, cart_id, key)).status_code == 201


async def test_checkout_needs_an_idempotency_key(shop):
    cart_id = await new_cart(shop, {"CE-200": "1"})
    async with shop.as_buyer() as http:
        answer = await http.post(f"/carts/{cart_id}/checkout", json={})
    assert answer.status_code == 428
    assert await count(shop.orders, "orders") == 0


async def test_concurrent_checkouts_of_the_last_units_never_oversell(shop):
    await post_feed(
        shop.catalog, CATALOG_FEEDS, "stock", STOCK.replace("CE-200,MAIN,100", "CE-200,MAIN,5")
    )
    carts = [await new_cart(shop, {"CE-200": "1"}, name=f"Project {i}") for i in range(12)]
    answers = await asyncio.gather(*(checkout(shop, c) for c in carts))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 5 + [409] * 7, [
        a.text for a in answers if a.status_code not in (201, 409)
    ]
    refused = next(a for a in answers if a.status_code == 409).json()
    assert refused["errors"][0]["row"] == 1 and "CE-200" in refused["errors"][0]["message"]
    stock = await stock_of(shop, "CE-200")
    assert (stock["reserved"], stock["available"]) == ("5.000", "0.000")
    assert await count(shop.orders, "orders") == 5
    assert await count(shop.orders, "checkouts", "state = 'failed'") == 7
    assert await count(shop.orders, "cart_lines") == 7  # refused carts keep their lines


async def test_credit_breach_refuses_with_the_reason_and_reserves_nothing(start_app):
    shop = await open_shop(start_app, credit_limit_minor=10_000)
    cart_id = await new_cart(shop, {"CE-200": "10"})
    refused = await checkout(shop, cart_id)
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["type"].endswith("/credit-refused")
    assert "exceeds the credit left, €100.00" in problem["detail"]
    assert await count(shop.orders, "orders") == 0
    assert (await stock_of(shop, "CE-200"))["reserved"] == "0.000"
    smaller = await new_cart(shop, {"CE-200": "8"}, name="Smaller")
    assert (await checkout(shop, smaller)).status_code == 201


async def test_credit_breach_can_hold_the_order_for_the_sales_manager(start_app):
    shop = await open_shop(start_app, credit_limit_minor=10_000, credit_on_breach="hold")
    cart_id = await new_cart(shop, {"CE-200": "10"})
    held = await checkout(shop, cart_id)
    assert held.status_code == 201
    order = held.json()
    assert order["status"] == "credit_hold" and "sales manager" in order["hold_reason"]
    assert await outbox_types(shop.orders) == []  # not placed: ERP and turnover do not see it
    async with shop.as_buyer() as http:
        assert (await http.post(f"/orders/{order['id']}/approve")).status_code == 403
    async with client(shop.orders, shop.manager) as http:
        approved = await http.post(f"/orders/{order['id']}/approve")
    assert approved.json()["status"] == "placed"
    assert [h["to_status"] for h in approved.json()["history"]] == ["credit_hold", "placed"]
    assert await outbox_types(shop.orders) == ["order.placed"]


async def test_company_approval_rule_holds_big_orders_until_the_company_admin_approves(shop):
    admin = as_role(Role.COMPANY_ADMIN, company_id=shop.company_id)
    async with client(shop.orders, shop.buyer) as http:
        refused = await http.post("/approval-rules", json={"above_minor": 10000, "currency": "EUR"})
    assert refused.status_code == 403
    async with client(shop.orders, admin) as http:
        rule = await http.post("/approval-rules", json={"above_minor": 10000, "currency": "EUR"})
    assert rule.status_code == 201
    small = await checkout(shop, await new_cart(shop, {"CE-200": "2"}, name="Small"))
    big = await checkout(shop, await new_cart(shop, {"CE-200": "10"}, name="Big"))
    assert small.json()["status"] == "placed"
    assert big.json()["status"] == "pending_approval"
    async with client(shop.orders, shop.buyer) as http:
        assert (await http.post(f"/orders/{big.json()['id']}/approve")).status_code == 403
    async with client(shop.orders, admin) as http:
        approved = await http.post(f"/orders/{big.json()['id']}/approve")
    assert approved.json()["status"] == "placed"


async def test_unpriced_and_below_minimum_orders_are_refused(start_app):
    shop = await open_shop(start_app, min_order_total_minor=5_000)
    cart_id = await new_cart(shop, {"CE-200": "2"})
    below = await checkout(shop, cart_id)
    assert below.status_code == 422 and below.json()["type"].endswith("/below-minimum-order")
    assert await count(shop.orders, "orders") == 0


async def test_an_interrupted_checkout_gives_its_stock_back(shop):
    """A crash after the stock was held and before the order: recovery releases the stock."""
    reference = uuid.uuid4()
    reservation = (
        await catalog_client.reserve_stock(shop.orders.state.upstreams, reference, [("CE-200", 7)])
    ).id
    await interrupted(shop, reference, "reserved", reservation)
    assert (await stock_of(shop, "CE-200"))["reserved"] == "7.000"
    assert await recover_once(shop.orders) == 1
    assert (await stock_of(shop, "CE-200"))["reserved"] == "0.000"
    assert await count(shop.orders, "checkouts", "state = 'failed'") == 1
    assert await recover_once(shop.orders) == 0


async def test_a_checkout_interrupted_before_its_order_gives_back_what_it_reserved(shop):
    """A crash after catalog held (even confirmed) the stock and before the order committed:
    the checkout row never learnt the reservation's id; recovery releases it by reference."""
    reference = uuid.uuid4()
    reservation = (
        await catalog_client.reserve_stock(shop.orders.state.upstreams, reference, [("CE-200", 4)])
    ).id
    assert await catalog_client.confirm_reservation(shop.orders.state.upstreams, reservation)
    await interrupted(shop, reference, "started")
    assert (await stock_of(shop, "CE-200"))["reserved"] == "4.000"
    assert await recover_once(shop.orders) == 1
    assert (await stock_of(shop, "CE-200"))["reserved"] == "0.000"
    assert await count(shop.catalog, "reservations", "state = 'released'") == 1
    assert await count(shop.orders, "checkouts", "state = 'failed'") == 1
    assert await count(shop.orders, "orders") == 0


class ReleasesCut(httpx.AsyncBaseTransport):
    """The way to catalog while its releases cannot get through (a DELETE meets a closed
    connection); everything else reaches it."""

    def __init__(self, catalog: httpx.AsyncBaseTransport) -> None:
        self.catalog = catalog

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            raise httpx.ConnectError("catalog is unreachable", request=request)
        return await self.catalog.handle_async_request(request)


@contextlib.asynccontextmanager
async def order_write_fails(shop):
    """The orders database refuses the checkout's last write (the one that records its
    order), after catalog confirmed the stock: a trigger, dropped after."""
    async with shop.orders.state.sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "CREATE FUNCTION refuse_write() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$"
            )
        )
        await session.execute(
            text(
                "CREATE TRIGGER refuse_write BEFORE UPDATE ON checkouts FOR EACH ROW "
                "WHEN (NEW.order_id IS NOT NULL) EXECUTE FUNCTION refuse_write()"
            )
        )
    try:
        yield
    finally:
        async with shop.orders.state.sessionmaker() as session, session.begin():
            await session.execute(text("DROP TRIGGER refuse_write ON checkouts"))
            await session.execute(text("DROP FUNCTION refuse_write()"))


async def test_stock_a_failed_checkout_could_not_give_back_is_given_back_by_the_recovery(shop):
    """Catalog confirmed the stock, the order could not be written, and catalog was
    unreachable when the checkout gave the stock back: the checkout keeps what it holds on
    record, and the recovery gives it back once catalog answers (once: a second pass finds
    nothing). Then the same key checks out again."""
    cart_id = await new_cart(shop, {"CE-200": "60"})
    routes = shop.orders.state.upstream_transport.apps
    catalog = routes["catalog"]
    routes["catalog"] = ReleasesCut(catalog)
    try:
        async with order_write_fails(shop):
            failed = await checkout(shop, cart_id, key="tower-b")
    finally:
        routes["catalog"] = catalog
    assert failed.status_code == 503, failed.text
    assert await count(shop.catalog, "reservations", "state = 'confirmed'") == 1
    assert (await stock_of(shop, "CE-200"))["reserved"] == "60.000"
    assert await count(shop.orders, "orders") == 0
    assert await recover_once(shop.orders) == 1
    assert (await stock_of(shop, "CE-200"))["reserved"] == "0.000"
    assert await count(shop.catalog, "reservations", "state = 'released'") == 1
    assert await count(shop.orders, "checkouts", "state = 'failed'") == 1
    assert await recover_once(shop.orders) == 0
    placed = await checkout(shop, cart_id, key="tower-b")
    assert placed.status_code == 201, placed.text
    assert (await stock_of(shop, "CE-200"))["reserved"] == "60.000"


async def interrupted(shop, checkout_id, state, reservation=None):
    """A checkout row left in `state` ten minutes ago, as a crash leaves it."""
    async with shop.orders.state.sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO checkouts (id, company_id, idempotency_key, state, reservation_id,"
                " created_at, updated_at) VALUES (:id, :c, :k, :s, :r, :t, :t)"
            ),
            {
                "id": checkout_id,
                "c": shop.company_id,
                "k": f"key-{checkout_id}",
                "s": state,
                "r": reservation,
                "t": utcnow() - timedelta(minutes=10),
            },
        )


async def test_the_cost_erp_gives_is_kept_per_line_for_margins_and_never_shown(shop):
    costs = "sku,cost_minor,cost_currency\nCE-200,700,EUR\nKN-100,30000,RUB\n"
    await post_feed(shop.catalog, CATALOG_FEEDS, "catalog", costs)
    await deliver_events(shop.catalog, ProductUpsertedV1, shop.pricing, shop.orders)
    placed = await checkout(shop, await new_cart(shop, {"CE-200": "2", "KN-100": "10"}))
    assert placed.status_code == 201
    assert all("cost" not in key for line in placed.json()["lines"] for key in line)
    async with shop.orders.state.sessionmaker() as session:
        payload = await session.scalar(
            text("SELECT payload FROM outbox WHERE type LIKE '%order.placed%'")
        )
    # KN-100's cost is in roubles, the order in euros: no cost rather than a wrong margin.
    assert {x["sku"]: x["unit_cost_minor"] for x in payload["data"]["lines"]} == {
        "CE-200": 700,
        "KN-100": None,
    }
    async with client(shop.catalog, shop.buyer) as http:
        product = (await http.get("/products/CE-200")).json()
    assert "cost_minor" not in product and "cost_currency" not in product
