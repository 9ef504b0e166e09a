"""Quotes (RFQ): ask, offer within the policy's limits, open, change, expire, accept."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import text

from shared.auth import Role
from shared.clock import today
from shared.testing.fixtures import as_role, client
from tests.orders.world import ADMIN, new_cart, outbox_types, stock_of
from tests.pricing.world import drop_cached_prices


def in_days(days: int) -> str:
    return (today() + timedelta(days=days)).isoformat()


async def ask(shop, lines=None, message="Need a better price for 60 bags"):
    cart_id = await new_cart(shop, lines or {"CE-200": "60", "KN-100": "10"})
    async with shop.as_buyer() as http:
        asked = await http.post(f"/carts/{cart_id}/quote", json={"message": message})
    assert asked.status_code == 201, asked.text
    return asked.json()


async def offer(shop, quote_id, lines, valid_until=None, headers=None):
    async with client(shop.orders, headers or shop.manager) as http:
        return await http.put(
            f"/quotes/{quote_id}/offer",
            json={
                "valid_until": valid_until or in_days(7),
                "message": "Best we can",
                "lines": lines,
            },
        )


async def accept(shop, quote_id, key=None):
    async with shop.as_buyer() as http:
        return await http.post(
            f"/quotes/{quote_id}/accept", headers={"Idempotency-Key": key or str(uuid.uuid4())}
        )


async def test_a_quote_offered_opened_and_accepted_becomes_the_order_at_quoted_prices(shop):
    quote = await ask(shop)
    assert quote["status"] == "requested" and quote["number"].startswith("Q-")
    assert [(x["sku"], x["client_price_minor"]) for x in quote["lines"]] == [
        ("CE-200", 1100),
        ("KN-100", 480),
    ]
    assert quote["total_minor"] is None
    offered = await offer(shop, quote["id"], [{"line_no": 1, "price_minor": 1000}])
    assert offered.status_code == 200, offered.text
    body = offered.json()
    assert (body["status"], body["revision"], body["opened_at"]) == ("offered", 1, None)
    assert [x["quoted_price_minor"] for x in body["lines"]] == [1000, 480]
    assert body["total_minor"] == 60 * 1000 + 10 * 480

    async with shop.as_buyer() as http:
        seen = (await http.get(f"/quotes/{quote['id']}")).json()
        again = (await http.get(f"/quotes/{quote['id']}")).json()
    assert seen["opened_at"] is not None and again["opened_at"] == seen["opened_at"]
    assert [s["action"] for s in again["steps"]] == ["requested", "offered", "opened"]

    key = str(uuid.uuid4())
    placed = await accept(shop, quote["id"], key)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["quote_id"] == quote["id"] and order["total_minor"] == 64_800
    assert {(x["sku"], x["unit_price_minor"], x["price_rule"]) for x in order["lines"]} == {
        ("CE-200", 1000, f"quote:{quote['number']}"),
        ("KN-100", 480, f"quote:{quote['number']}"),
    }
    retried = await accept(shop, quote["id"], key)
    assert retried.status_code in (200, 201) and retried.json()["id"] == order["id"]
    other_key = await accept(shop, quote["id"])
    assert other_key.status_code == 409
    assert (await stock_of(shop, "CE-200"))["reserved"] == "60.000"
    async with shop.as_buyer() as http:
        final = (await http.get(f"/quotes/{quote['id']}")).json()
    assert (final["status"], final["order_id"]) == ("accepted", order["id"])
    assert await outbox_types(shop.orders) == [
        "quote.requested",
        "quote.offered",
        "quote.opened",
        "order.placed",
        "quote.accepted",
    ]


async def test_an_offer_below_the_floor_or_the_allowance_is_refused_line_by_line(shop):
    async with client(shop.pricing, ADMIN) as http:
        floor = await http.put(
            "/floor-prices/CE-200", json={"currency": "EUR", "price_minor": 1050}
        )
    assert floor.status_code == 200, floor.text
    drop_cached_prices(shop.pricing)
    quote = await ask(shop)
    # CE-200: 1000 is within 10 % of 1,100 but under the floor; KN-100: 430 is under 480 - 10 %.
    refused = await offer(
        shop,
        quote["id"],
        [{"line_no": 1, "price_minor": 1000}, {"line_no": 2, "price_minor": 430}],
    )
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [
        (1, "lines.price_minor"),
        (2, "lines.price_minor"),
    ]
    assert "1050, the floor" in errors[0]["message"]
    assert "432, the client's price less 10 %" in errors[1]["message"]
    past = await offer(shop, quote["id"], [], valid_until=in_days(-1))
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "valid_until"
    too_long = await offer(shop, quote["id"], [], valid_until=in_days(365))
    assert too_long.status_code == 422
    async with shop.as_buyer() as http:
        unchanged = (await http.get(f"/quotes/{quote['id']}")).json()
    assert (unchanged["status"], unchanged["revision"]) == ("requested", 0)
    allowed = await offer(
        shop,
        quote["id"],
        [{"line_no": 1, "price_minor": 1050}, {"line_no": 2, "price_minor": 432}],
    )
    assert allowed.status_code == 200, allowed.text


async def test_an_expired_offer_cannot_be_ordered_but_can_be_asked_again(shop):
    quote = await ask(shop)
    assert (await offer(shop, quote["id"], [])).status_code == 200
    async with shop.orders.state.sessionmaker.begin() as session:
        await session.execute(
            text("UPDATE quotes SET valid_until = current_date - 1 WHERE id = :id"),
            {"id": quote["id"]},
        )
    async with shop.as_buyer() as http:
        assert (await http.get(f"/quotes/{quote['id']}")).json()["status"] == "expired"
    late = await accept(shop, quote["id"])
    assert late.status_code == 409 and late.json()["type"].endswith("quote-expired")
    async with shop.as_buyer() as http:
        changes = await http.post(
            f"/quotes/{quote['id']}/request-changes", json={"message": "Please extend"}
        )
    assert changes.status_code == 200 and changes.json()["status"] == "changes_requested"
    assert (await accept(shop, quote["id"])).status_code == 409
    renewed = await offer(shop, quote["id"], [{"line_no": 2, "price_minor": 450}])
    assert renewed.json()["revision"] == 2 and renewed.json()["opened_at"] is None
    assert (await accept(shop, quote["id"])).status_code == 201
    async with shop.orders.state.sessionmaker() as session:
        checkouts = await session.scalar(text("SELECT count(*) FROM checkouts"))
    assert checkouts == 1  # the refused accepts left nothing behind


async def test_only_sales_offers_and_only_the_company_sees_its_quotes(shop):
    quote = await ask(shop)
    assert (await offer(shop, quote["id"], [], headers=shop.buyer)).status_code == 403
    company_admin = as_role(Role.COMPANY_ADMIN, company_id=shop.company_id)
    assert (await offer(shop, quote["id"], [], headers=company_admin)).status_code == 403
    async with shop.as_stranger() as http:
        assert (await http.get(f"/quotes/{quote['id']}")).status_code == 404
        assert (await http.get("/quotes")).json()["items"] == []
        assert (
            await http.post(f"/quotes/{quote['id']}/accept", headers={"Idempotency-Key": "k"})
        ).status_code == 404
    async with client(shop.orders, shop.manager) as http:
        listed = (await http.get("/quotes", params={"status": "requested"})).json()["items"]
        assert [q["id"] for q in listed] == [quote["id"]]
        assert (
            await http.post(f"/quotes/{quote['id']}/request-changes", json={"message": "x"})
        ).status_code == 403
        declined = await http.post(
            f"/quotes/{quote['id']}/decline", json={"message": "Not at that volume"}
        )
        assert declined.json()["status"] == "declined"
    integrator = as_role(Role.INTEGRATOR, kind="api_key", subject="erp")
    async with client(shop.orders, integrator) as http:
        assert (await http.get("/quotes")).status_code == 403
    assert (await accept(shop, quote["id"])).status_code == 409
