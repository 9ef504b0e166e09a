"""A sales manager acts only for the clients assigned to it (accounts' company.upserted says
which): another client's carts, lists, orders, documents, quotes and credit holds are 404 and
its lists leave them out; the head of sales and admins reach every client."""

from __future__ import annotations

import csv
import io
import uuid

from shared.auth import Role
from shared.contracts.accounts import CompanyUpsertedV1
from shared.testing.fixtures import as_role, client
from tests.accounts.factories import add_user
from tests.orders.test_checkout import checkout
from tests.orders.test_documents import attach
from tests.orders.test_lifecycle import place
from tests.orders.test_quotes import in_days
from tests.orders.world import ADMIN, Shop, deliver_events, new_cart, new_company, open_shop

HEAD = as_role(Role.HEAD_OF_SALES)


async def second_client(shop: Shop, **fields) -> tuple[uuid.UUID, dict, dict, uuid.UUID]:
    """Client C2, assigned to another sales manager: its id, a buyer, its manager (headers and
    id)."""
    ivan = await add_user(shop.accounts, "ivan@example.com", staff_role="sales_manager")
    apps = (shop.accounts, shop.catalog, shop.pricing, shop.orders)
    company_id = await new_company(apps, "C2", currency="EUR", sales_manager_id=str(ivan), **fields)
    buyer = as_role(Role.BUYER, company_id=company_id, subject=uuid.uuid4())
    return company_id, buyer, as_role(Role.SALES_MANAGER, subject=ivan), ivan


async def ask_quote(shop: Shop, buyer: dict) -> dict:
    cart_id = await new_cart(shop, {"CE-200": "60"}, name="For a quote", headers=buyer)
    async with client(shop.orders, buyer) as http:
        asked = await http.post(f"/carts/{cart_id}/quote", json={"message": "Better price?"})
    assert asked.status_code == 201, asked.text
    return asked.json()


def exported_numbers(answer) -> set[str]:
    assert answer.status_code == 200, answer.text
    return {row["number"] for row in csv.DictReader(io.StringIO(answer.text))}


async def test_a_sales_manager_reaches_only_its_clients_the_head_of_sales_all(shop):
    other, other_buyer, _, _ = await second_client(shop)
    ours = await place(shop)
    placed = await checkout(
        shop, await new_cart(shop, {"CE-200": "2"}, headers=other_buyer), headers=other_buyer
    )
    theirs = placed.json()
    document = (await attach(shop, theirs["number"])).json()
    our_quote, their_quote = await ask_quote(shop, shop.buyer), await ask_quote(shop, other_buyer)
    offer = {
        "valid_until": in_days(7),
        "message": "ok",
        "lines": [{"line_no": 1, "price_minor": 1050}],
    }

    async with client(shop.orders, shop.manager) as http:
        history = (await http.get("/orders")).json()["items"]
        named_other = (await http.get("/orders", params={"company_id": str(other)})).json()
        exported = await http.get("/orders/export")
        quotes = (await http.get("/quotes")).json()["items"]
        refused = [
            await http.get(f"/orders/{theirs['id']}"),
            await http.get(f"/orders/{theirs['id']}/documents"),
            await http.get(f"/orders/{theirs['id']}/documents/{document['id']}/file"),
            await http.get(f"/orders/{theirs['id']}/claims"),
            await http.post(f"/orders/{theirs['id']}/cancel", json={"reason": "not mine"}),
            await http.post("/carts", json={"name": "For C2", "company_id": str(other)}),
            await http.get("/requisition-lists", params={"company_id": str(other)}),
            await http.post("/requisition-lists", json={"name": "L", "company_id": str(other)}),
            await http.get(f"/quotes/{their_quote['id']}"),
            await http.put(f"/quotes/{their_quote['id']}/offer", json=offer),
            await http.post(f"/quotes/{their_quote['id']}/decline", json={"message": "no"}),
        ]
        own_cart = await http.post(
            "/carts", json={"name": "For C1", "company_id": str(shop.company_id)}
        )
    assert [o["id"] for o in history] == [ours["id"]]
    assert named_other["items"] == []
    assert exported_numbers(exported) == {ours["number"]}
    assert [q["id"] for q in quotes] == [our_quote["id"]]
    assert [r.status_code for r in refused] == [404] * len(refused)
    assert own_cart.status_code == 201
    async with client(shop.orders, other_buyer) as http:
        theirs_now = (await http.get(f"/orders/{theirs['id']}")).json()
        their_quote_now = (await http.get(f"/quotes/{their_quote['id']}")).json()
    assert theirs_now["status"] == "placed"  # the refused cancel changed nothing
    assert their_quote_now["status"] == "requested"

    async with client(shop.orders, HEAD) as http:
        history = (await http.get("/orders")).json()["items"]
        exported = await http.get("/orders/export")
        documents = await http.get(f"/orders/{theirs['id']}/documents")
        quotes = (await http.get("/quotes")).json()["items"]
        offered = await http.put(f"/quotes/{their_quote['id']}/offer", json=offer)
        cart = await http.post("/carts", json={"name": "For C2", "company_id": str(other)})
    assert {o["id"] for o in history} == {ours["id"], theirs["id"]}
    assert exported_numbers(exported) == {ours["number"], theirs["number"]}
    assert [d["id"] for d in documents.json()] == [document["id"]]
    assert {q["id"] for q in quotes} == {our_quote["id"], their_quote["id"]}
    assert offered.status_code == 200, offered.text
    assert cart.status_code == 201


async def test_only_the_clients_own_manager_releases_its_credit_hold(start_app):
    shop = await open_shop(start_app, credit_limit_minor=10_000, credit_on_breach="hold")
    _, _, ivan, _ = await second_client(shop, credit_limit_minor=10_000)
    held = (await checkout(shop, await new_cart(shop, {"CE-200": "10"}))).json()
    assert held["status"] == "credit_hold"
    async with client(shop.orders, ivan) as http:
        assert (await http.post(f"/orders/{held['id']}/approve")).status_code == 404
    async with shop.as_buyer() as http:
        assert (await http.get(f"/orders/{held['id']}")).json()["status"] == "credit_hold"
    async with client(shop.orders, shop.manager) as http:
        released = await http.post(f"/orders/{held['id']}/approve")
    assert released.json()["status"] == "placed"


async def test_a_reassigned_client_goes_with_its_carts_and_orders_to_the_new_manager(shop):
    _, _, ivan, ivan_id = await second_client(shop)
    order = await place(shop)
    async with client(shop.orders, shop.manager) as http:
        cart = await http.post(
            "/carts", json={"name": "Olga's", "company_id": str(shop.company_id)}
        )
    async with client(shop.accounts, ADMIN) as http:
        current = await http.get(f"/companies/{shop.company_id}")
        moved = await http.patch(
            f"/companies/{shop.company_id}",
            json={"sales_manager_id": str(ivan_id)},
            headers={"If-Match": current.headers["ETag"]},
        )
    assert moved.status_code == 200, moved.text
    await deliver_events(shop.accounts, CompanyUpsertedV1, shop.orders)
    async with client(shop.orders, shop.manager) as http:
        assert (await http.get("/orders")).json()["items"] == []
        assert (await http.get(f"/carts/{cart.json()['id']}")).status_code == 404
        assert (await http.get("/carts")).json() == []
    async with client(shop.orders, ivan) as http:
        assert [o["id"] for o in (await http.get("/orders")).json()["items"]] == [order["id"]]


async def test_a_manager_keeps_its_clients_requisition_lists_with_their_lines(shop):
    _, other_buyer, _, _ = await second_client(shop)
    own = {"company_id": str(shop.company_id)}
    async with client(shop.orders, shop.manager) as http:
        for name, text in (("Weekly", "CE-200 2\nKN-100 10\n"), ("Monthly", "KN-100 50\n")):
            made = (await http.post("/requisition-lists", json={"name": name, **own})).json()
            added = await http.post(
                f"/requisition-lists/{made['id']}/lines",
                content=text,
                headers={"Content-Type": "text/plain"},
            )
            assert added.status_code == 200, added.text
        listed = (await http.get("/requisition-lists", params=own)).json()
    async with client(shop.orders, other_buyer) as http:
        theirs = (await http.post("/requisition-lists", json={"name": "Theirs"})).json()
    async with client(shop.orders, shop.manager) as http:
        assert (await http.get(f"/requisition-lists/{theirs['id']}")).status_code == 404
    async with client(shop.orders, HEAD) as http:
        assert (await http.get(f"/requisition-lists/{theirs['id']}")).status_code == 200
    assert [(x["name"], [(y["sku"], y["quantity"]) for y in x["lines"]]) for x in listed] == [
        ("Monthly", [("KN-100", "50.000")]),
        ("Weekly", [("CE-200", "2.000"), ("KN-100", "10.000")]),
    ]
