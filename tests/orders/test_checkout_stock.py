"""Checkout never places an order on stock catalog does not hold for it, and never leaves stock
held for a checkout that failed: a hold that expired before its confirmation is held again or
the checkout refused (also when the recovery confirms), and a reservation whose answer was lost
is given back at once."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text

from services.catalog.api.feeds import SPECS as CATALOG_FEEDS
from services.catalog.store import reservations as catalog_store
from services.orders.clients import catalog as catalog_client
from services.orders.workers import recover_once
from shared.clock import utcnow
from tests.orders.test_checkout import ReleasesCut, checkout, count
from tests.orders.world import STOCK, new_cart, open_shop, outbox_types, post_feed, stock_of


def confirming(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.endswith("/confirm")


def reserving(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.endswith("/reservations")


class Catalog(httpx.AsyncBaseTransport):
    """The way from orders to catalog as a test has it: `meanwhile` happens at catalog just
    before the first request `at` matches; requests `lost` matches reach catalog, which does
    what they ask, but their answer never comes back (a 503, or a timeout); requests `down`
    matches never reach it (it answers 503)."""

    def __init__(
        self,
        catalog: httpx.AsyncBaseTransport,
        *,
        meanwhile: Callable[[], Awaitable[None]] | None = None,
        at: Callable[[httpx.Request], bool] = confirming,
        lost: Callable[[httpx.Request], bool] = lambda _: False,
        loss: str = "503",
        down: Callable[[httpx.Request], bool] = lambda _: False,
    ) -> None:
        self.catalog, self.meanwhile, self.at = catalog, meanwhile, at
        self.lost, self.loss, self.down = lost, loss, down

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.meanwhile is not None and self.at(request):
            meanwhile, self.meanwhile = self.meanwhile, None
            await meanwhile()
        if self.down(request):
            return httpx.Response(503, json={"title": "Service Unavailable"})
        response = await self.catalog.handle_async_request(request)
        if not self.lost(request):
            return response
        await response.aread()
        if self.loss == "timeout":
            raise httpx.ReadTimeout("catalog took too long to answer", request=request)
        return httpx.Response(503, json={"title": "Service Unavailable"})


@contextmanager
def catalog_way(shop, **how) -> Iterator[None]:
    """Orders reaches catalog the way `how` says, inside the block."""
    routes = shop.orders.state.upstream_transport.apps
    catalog = routes["catalog"]
    routes["catalog"] = Catalog(catalog, **how)
    try:
        yield
    finally:
        routes["catalog"] = catalog


async def expire_holds(shop) -> None:
    """Catalog's expiry worker, a quarter of an hour on: every hold not confirmed ends."""
    async with shop.catalog.state.sessionmaker() as session, session.begin():
        await catalog_store.expire_due(session, utcnow() + timedelta(minutes=20))


async def another_buyer_takes(shop, quantity: int) -> None:
    await catalog_client.reserve_stock(
        shop.orders.state.upstreams, uuid.uuid4(), [("CE-200", quantity)]
    )


async def test_stock_that_expired_before_its_confirmation_is_held_again_and_the_order_placed(
    shop,
):
    cart_id = await new_cart(shop, {"CE-200": "60"})
    with catalog_way(shop, meanwhile=lambda: expire_holds(shop)):
        placed = await checkout(shop, cart_id)
    assert placed.status_code == 201, placed.text
    assert (await stock_of(shop, "CE-200"))["reserved"] == "60.000"
    assert await count(shop.catalog, "reservations", "state = 'confirmed'") == 1
    assert await count(shop.orders, "checkouts", "state = 'settled'") == 1


async def test_a_checkout_whose_stock_expired_and_went_to_another_is_refused_naming_the_line(
    shop,
):
    """Nothing is ordered, nothing held, the cart keeps its lines; with what there is, the
    same key places the order."""
    cart_id = await new_cart(shop, {"KN-100": "10", "CE-200": "60"})

    async def expired_and_taken() -> None:
        await expire_holds(shop)
        await another_buyer_takes(shop, 50)

    with catalog_way(shop, meanwhile=expired_and_taken):
        refused = await checkout(shop, cart_id, key="tower-b")
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["type"].endswith("/out-of-stock") and "given back" in problem["detail"]
    assert problem["errors"] == [
        {"field": "quantity", "message": "only 50.000 of CE-200 available", "row": 2}
    ]
    assert await count(shop.orders, "orders") == 0
    assert await count(shop.orders, "cart_lines") == 2
    assert await outbox_types(shop.orders) == []
    assert (await stock_of(shop, "CE-200"))["reserved"] == "50.000"  # the other buyer's
    assert (await stock_of(shop, "KN-100"))["reserved"] == "0.000"
    async with shop.as_buyer() as http:
        fixed = await http.put(
            f"/carts/{cart_id}/lines", json={"lines": [{"sku": "CE-200", "quantity": "50"}]}
        )
    assert fixed.status_code == 200, fixed.text
    placed = await checkout(shop, cart_id, key="tower-b")
    assert placed.status_code == 201, placed.text
    assert (await stock_of(shop, "CE-200"))["reserved"] == "100.000"


async def placed_unconfirmed(shop, cart_id: str) -> dict:
    """An order placed while catalog could not answer the confirmation: the checkout stays
    `placed`, for the recovery."""
    with catalog_way(shop, down=confirming):
        placed = await checkout(shop, cart_id)
    assert placed.status_code == 201, placed.text
    assert await count(shop.orders, "checkouts", "state = 'placed'") == 1
    return placed.json()


async def test_the_recovery_holds_again_stock_that_expired_before_it_confirmed(start_app):
    """Held again where it is now (another warehouse): the order says so."""
    shop = await open_shop(start_app, checkout_stale_seconds=0)
    order = await placed_unconfirmed(shop, await new_cart(shop, {"CE-200": "60"}))
    assert order["lines"][0]["sources"] == [{"warehouse": "MAIN", "quantity": "60.000"}]
    await post_feed(shop.catalog, CATALOG_FEEDS, "stock", STOCK + "CE-200,SOUTH,80\n")
    await expire_holds(shop)
    await another_buyer_takes(shop, 50)  # from MAIN, which has the most now
    assert await recover_once(shop.orders) == 1
    async with shop.as_buyer() as http:
        now = (await http.get(f"/orders/{order['id']}")).json()
    assert now["status"] == "placed"
    assert now["lines"][0]["sources"] == [{"warehouse": "SOUTH", "quantity": "60.000"}]
    async with shop.catalog.state.sessionmaker() as session:
        held = await session.execute(
            text("SELECT warehouse, reserved FROM stock_levels WHERE sku = 'CE-200'")
        )
        assert {w: str(q) for w, q in held} == {"MAIN": "50.000", "SOUTH": "60.000"}
    assert await count(shop.catalog, "reservations", "state = 'confirmed'") == 1
    assert await count(shop.orders, "checkouts", "state = 'settled'") == 1
    assert await recover_once(shop.orders) == 0


async def test_the_recovery_cancels_an_order_whose_stock_expired_and_is_gone(start_app):
    """The buyer learns it from the order (cancelled, saying which line) and its event."""
    shop = await open_shop(start_app, checkout_stale_seconds=0)
    order = await placed_unconfirmed(shop, await new_cart(shop, {"CE-200": "60"}))
    await expire_holds(shop)
    await another_buyer_takes(shop, 50)
    assert await recover_once(shop.orders) == 1
    async with shop.as_buyer() as http:
        now = (await http.get(f"/orders/{order['id']}")).json()
    assert now["status"] == "cancelled"
    assert "only 50.000 of CE-200 available" in now["history"][-1]["note"]
    assert await outbox_types(shop.orders) == ["order.placed", "order.cancelled"]
    assert (await stock_of(shop, "CE-200"))["reserved"] == "50.000"  # the other buyer's
    assert await count(shop.orders, "checkouts", "state = 'settled'") == 1
    assert await recover_once(shop.orders) == 0


@pytest.mark.parametrize(("loss", "status"), [("503", 503), ("timeout", 504)])
async def test_a_reservation_whose_answer_was_lost_is_given_back_at_once(shop, loss, status):
    """Catalog held 60 of 100 but orders never heard: the stock is free again when the buyer
    hears of the failure, so the same key checks out at once instead of being refused for the
    60 it held itself."""
    cart_id = await new_cart(shop, {"CE-200": "60"})
    with catalog_way(shop, lost=reserving, loss=loss):
        failed = await checkout(shop, cart_id, key="tower-b")
    assert failed.status_code == status, failed.text
    assert (await stock_of(shop, "CE-200"))["reserved"] == "0.000"
    assert await count(shop.catalog, "reservations", "state = 'released'") == 1
    assert await count(shop.orders, "checkouts", "state = 'failed'") == 1
    placed = await checkout(shop, cart_id, key="tower-b")
    assert placed.status_code == 201, placed.text
    assert (await stock_of(shop, "CE-200"))["reserved"] == "60.000"


async def test_when_catalog_cannot_take_back_a_lost_reservation_the_recovery_does(shop):
    """The answer was lost and the release could not get through either: the checkout keeps
    its key (409 in progress) until the recovery gives the stock back, at its next pass."""
    cart_id = await new_cart(shop, {"CE-200": "60"})
    routes = shop.orders.state.upstream_transport.apps
    catalog = routes["catalog"]
    routes["catalog"] = Catalog(ReleasesCut(catalog), lost=reserving)
    try:
        failed = await checkout(shop, cart_id, key="tower-b")
    finally:
        routes["catalog"] = catalog
    assert failed.status_code == 503, failed.text
    assert await count(shop.orders, "checkouts", "state = 'reserved'") == 1
    busy = await checkout(shop, cart_id, key="tower-b")
    assert busy.status_code == 409 and busy.json()["type"].endswith("/checkout-in-progress")
    assert await recover_once(shop.orders) == 1
    assert (await stock_of(shop, "CE-200"))["reserved"] == "0.000"
    assert await count(shop.orders, "checkouts", "state = 'failed'") == 1
    placed = await checkout(shop, cart_id, key="tower-b")
    assert placed.status_code == 201, placed.text
    assert (await stock_of(shop, "CE-200"))["reserved"] == "60.000"


async def test_a_checkout_the_recovery_gave_up_while_it_ran_orders_nothing_and_holds_nothing(
    start_app,
):
    """A checkout slower than ORDERS_CHECKOUT_STALE_SECONDS is given up by the recovery (its
    stock given back, its key freed) while it still runs: it must not then create its order, or
    the key's next attempt would make a second one."""
    shop = await open_shop(start_app, checkout_stale_seconds=0)
    cart_id = await new_cart(shop, {"CE-200": "60"})

    async def recovery_gives_it_up() -> None:
        assert await recover_once(shop.orders) == 1

    with catalog_way(shop, meanwhile=recovery_gives_it_up):
        given_up = await checkout(shop, cart_id, key="slow")
    assert given_up.status_code == 409, given_up.text
    assert given_up.json()["type"].endswith("/checkout-interrupted")
    assert await count(shop.orders, "orders") == 0
    assert (await stock_of(shop, "CE-200"))["reserved"] == "0.000"
    placed = await checkout(shop, cart_id, key="slow")
    assert placed.status_code == 201, placed.text
    assert await count(shop.orders, "orders") == 1
    assert (await stock_of(shop, "CE-200"))["reserved"] == "60.000"
