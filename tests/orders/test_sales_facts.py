"""What sales analytics needs from orders: who placed an order (a manager on the client's
behalf), the order or need it adds to, and why a client cancelled, returned or complained."""

from __future__ import annotations

import uuid

from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.orders.test_lifecycle import outbox_payloads
from tests.orders.world import new_cart, new_company, open_shop


async def checkout(shop, cart_id, headers=None, **body):
    async with client(shop.orders, headers or shop.buyer) as http:
        return await http.post(
            f"/carts/{cart_id}/checkout",
            json=body,
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )


async def test_an_add_on_names_its_order_and_need_and_a_manager_places_on_behalf(start_app):
    shop = await open_shop(start_app)
    first = await checkout(shop, await new_cart(shop, {"CE-200": "1"}), need="Tower B")
    assert first.status_code == 201, first.text
    manager_id, manager = shop.manager_id, shop.manager
    async with client(shop.orders, manager) as http:
        cart = await http.post(
            "/carts", json={"name": "For them", "company_id": str(shop.company_id)}
        )
        cart_id = cart.json()["id"]
        await http.put(
            f"/carts/{cart_id}/lines", json={"lines": [{"sku": "CE-200", "quantity": "2"}]}
        )
    add_on = await checkout(
        shop, cart_id, manager, adds_to_order_id=first.json()["id"], need="Tower B"
    )
    assert add_on.status_code == 201, add_on.text
    placed = await outbox_payloads(shop.orders, "order.placed")
    assert [(p["on_behalf"], p["adds_to_order_id"], p["need"]) for p in placed] == [
        (False, None, "Tower B"),
        (True, first.json()["id"], "Tower B"),
    ]
    assert placed[0]["placed_by"] == str(shop.buyer_id)
    assert placed[1]["placed_by"] == str(manager_id)


async def test_naming_another_companys_order_is_refused_and_changes_nothing(start_app):
    shop = await open_shop(start_app)
    other = await new_company((shop.accounts, shop.catalog, shop.pricing, shop.orders), "C2")
    other_buyer = as_role(Role.BUYER, company_id=other, subject=uuid.uuid4())
    theirs = await checkout(shop, await new_cart(shop, {"CE-200": "1"}))
    assert theirs.status_code == 201, theirs.text
    cart_id = await new_cart(shop, {"CE-200": "1"}, headers=other_buyer)
    refused = await checkout(shop, cart_id, other_buyer, adds_to_order_id=theirs.json()["id"])
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "adds_to_order_id"
    assert len(await outbox_payloads(shop.orders, "order.placed")) == 1
    async with client(shop.orders, other_buyer) as http:
        assert len((await http.get(f"/carts/{cart_id}")).json()["lines"]) == 1


async def test_cancellations_returns_and_complaints_carry_their_reason(shop):
    order = (await checkout(shop, await new_cart(shop, {"CE-200": "1"}))).json()
    kept = (await checkout(shop, await new_cart(shop, {"CE-200": "1"}, name="Two"))).json()
    async with shop.as_buyer() as http:
        bad = await http.post(
            f"/orders/{order['id']}/cancel", json={"reason": "dear", "reason_code": "mood"}
        )
        assert bad.status_code == 422 and "reason_code" in bad.text
        cancelled = await http.post(
            f"/orders/{order['id']}/cancel", json={"reason": "too dear", "reason_code": "price"}
        )
        assert cancelled.status_code == 200
        too_much = await http.post(
            f"/orders/{kept['id']}/claims",
            json={"kind": "return", "reason_code": "product", "amount_minor": 10**9},
        )
        assert too_much.status_code == 422 and "amount_minor" in too_much.text
        claim = await http.post(
            f"/orders/{kept['id']}/claims",
            json={"kind": "complaint", "reason_code": "service", "comment": "rude driver"},
        )
        assert claim.status_code == 201, claim.text
        listed = (await http.get(f"/orders/{kept['id']}/claims")).json()
    assert [(c["kind"], c["reason_code"]) for c in listed] == [("complaint", "service")]
    (cancel,) = await outbox_payloads(shop.orders, "order.cancelled")
    assert (cancel["reason"], cancel["reason_code"]) == ("too dear", "price")
    (recorded,) = await outbox_payloads(shop.orders, "order.claim_recorded")
    assert (recorded["kind"], recorded["reason_code"], recorded["comment"]) == (
        "complaint",
        "service",
        "rude driver",
    )
    async with shop.as_stranger() as http:
        assert (await http.get(f"/orders/{kept['id']}/claims")).status_code == 404
    async with client(shop.orders, as_role(Role.INTEGRATOR, kind="api_key", subject="k")) as http:
        refused = await http.post(
            f"/orders/{kept['id']}/claims", json={"kind": "return", "reason_code": "product"}
        )
        assert refused.status_code == 403
