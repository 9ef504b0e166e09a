"""Staff reach the companies their role allows (`shared.scope`): a sales manager the companies
assigned to it, the head of sales, pricing managers and admins every one. Another's company
answers 404 as an unknown id does, for reads and writes alike, and a refused write changes
nothing. Invitations into a company: its own admins, its assigned manager, the head of sales
and admins; the token goes by e-mail, and only a development answer shows it."""

from __future__ import annotations

import uuid

import pytest

from shared.auth import Role
from shared.contracts.accounts import InvitationCreatedV1
from shared.testing.fixtures import as_role, client
from tests.accounts.factories import (
    ADMIN,
    accept,
    add_company,
    add_manager,
    add_user,
    emailed_token,
    invite,
    member_headers,
)
from tests.accounts.test_companies import outbox
from tests.accounts.test_statements import upload
from tests.reach import refused, snapshot

TABLES = (
    "companies",
    "addresses",
    "memberships",
    "invitations",
    "knowledge_goals",
    "company_pipeline",
    "stage_changes",
    "outbox",
)
ADDRESS = {"kind": "shipping", "line1": "Site 7", "city": "Kazan", "country": "RU"}


@pytest.fixture
async def world(accounts):
    """Olga's client with a buyer, an address and a statement; Ivan is another manager."""
    olga, olgas = await add_manager(accounts, "olga@seller.example")
    _, ivans = await add_manager(accounts, "ivan@seller.example")
    company = await add_company(accounts, external_id="C-OLGA", sales_manager_id=str(olga))
    cid = uuid.UUID(company["id"])
    buyer = await add_user(accounts, "buyer@olga.example", companies={cid: "buyer"})
    async with client(accounts, ADMIN) as http:
        address = (await http.post(f"/companies/{cid}/addresses", json=ADDRESS)).json()
    statement = (await upload(accounts, "C-OLGA")).json()
    return {
        "id": cid,
        "olga": olgas,
        "ivan": ivans,
        "buyer": buyer,
        "address": address["id"],
        "statement": statement["id"],
    }


def reads(w) -> list[str]:
    base = f"/companies/{w['id']}"
    return [
        base,
        f"{base}/card",
        f"{base}/credit",
        f"{base}/statements",
        f"{base}/statements/{w['statement']}/file",
        f"{base}/knowledge-goals",
        f"{base}/pipeline",
        f"{base}/addresses",
        f"{base}/members",
    ]


def writes(w) -> list[tuple[str, str, dict | None]]:
    base = f"/companies/{w['id']}"
    return [
        ("PATCH", base, {"legal_name": "Taken over"}),
        ("PUT", f"{base}/card", {"values": {}}),
        ("PUT", f"{base}/knowledge-goals/2026/visit", {"title": "Visit the site"}),
        ("PUT", f"{base}/pipeline", {"source": "poached"}),
        ("POST", f"{base}/addresses", ADDRESS),
        ("DELETE", f"{base}/addresses/{w['address']}", None),
        ("POST", f"{base}/invitations", {"email": "mole@ivan.example", "role": "company_admin"}),
        ("DELETE", f"{base}/members/{w['buyer']}", None),
    ]


async def call(app, headers, method: str, path: str, body: dict | None = None):
    async with client(app, {**headers, "If-Match": "*"}) as http:
        return await http.request(method, path, json=body)


async def test_a_sales_manager_gets_404_for_every_read_and_write_of_anothers_client(
    accounts, world
):
    before = await snapshot(accounts, *TABLES)
    for path in reads(world):
        assert refused(await call(accounts, world["ivan"], "GET", path)), path
    for method, path, body in writes(world):
        assert refused(await call(accounts, world["ivan"], method, path, body)), (method, path)
    assert await snapshot(accounts, *TABLES) == before
    async with client(accounts, world["ivan"]) as http:
        listed = (await http.get("/companies")).json()["items"]
    assert listed == []


async def test_the_assigned_manager_reads_and_writes_its_client(accounts, world):
    for path in reads(world):
        answer = await call(accounts, world["olga"], "GET", path)
        assert answer.status_code == 200, (path, answer.text)
    for method, path, body in writes(world):
        answer = await call(accounts, world["olga"], method, path, body)
        assert answer.status_code in (200, 201, 204), (method, path, answer.text)
    async with client(accounts, world["olga"]) as http:
        listed = (await http.get("/companies")).json()["items"]
        members = (await http.get(f"/companies/{world['id']}/members")).json()
    assert [c["id"] for c in listed] == [str(world["id"])]
    assert listed[0]["legal_name"] == "Taken over"
    assert str(world["buyer"]) not in {m["user_id"] for m in members}  # removed


@pytest.mark.parametrize("role", [Role.HEAD_OF_SALES, Role.ADMIN])
async def test_the_head_of_sales_and_admins_reach_every_client(accounts, world, role):
    headers = as_role(role)
    for path in reads(world):
        answer = await call(accounts, headers, "GET", path)
        assert answer.status_code == 200, (path, answer.text)
    for method, path, body in writes(world):
        answer = await call(accounts, headers, method, path, body)
        assert answer.status_code in (200, 201, 204), (method, path, answer.text)


async def test_a_pricing_manager_reads_every_company(accounts, world):
    headers = as_role(Role.PRICING_MANAGER)
    for path in (f"/companies/{world['id']}", f"/companies/{world['id']}/credit"):
        assert (await call(accounts, headers, "GET", path)).status_code == 200, path
    async with client(accounts, headers) as http:
        listed = (await http.get("/companies")).json()["items"]
    assert [c["id"] for c in listed] == [str(world["id"])]


async def test_a_company_a_sales_manager_creates_is_assigned_to_it(accounts, world):
    async with client(accounts, world["ivan"]) as http:
        made = await http.post("/companies", json={"legal_name": "Ivan's lead"})
        read = await http.get(f"/companies/{made.json()['id']}")
    assert made.status_code == 201, made.text
    assert read.status_code == 200
    assert read.json()["sales_manager_id"] == made.json()["sales_manager_id"] is not None


async def test_an_invitation_is_emailed_and_the_answer_holds_no_token(accounts, world):
    async with client(accounts, world["olga"]) as http:
        answer = await http.post(
            f"/companies/{world['id']}/invitations",
            json={"email": "Chief@Olga.example", "role": "company_admin"},
        )
    assert answer.status_code == 201, answer.text
    invitation = answer.json()
    assert invitation["token"] is None  # not in development: only the e-mail carries it
    [event] = [e["data"] for e in await outbox(accounts, InvitationCreatedV1.full_type())]
    assert event == {
        "invitation_id": invitation["id"],
        "company_id": str(world["id"]),
        "email": "chief@olga.example",
        "role": "company_admin",
        "invited_by": event["invited_by"],
        "expires_at": event["expires_at"],
    }
    assert emailed_token(invitation) not in str(event)
    accepted = await accept(accounts, invitation, "Chief")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["company_id"] == str(world["id"])


async def test_in_development_the_answer_holds_the_token(start_app):
    development = await start_app("accounts", environment="development")
    company = await add_company(development)
    invitation = await invite(development, ADMIN, company["id"], "dev@client.example")
    assert invitation["token"] == emailed_token(invitation)


async def test_only_its_admins_and_sales_staff_invite_into_a_company(accounts, world):
    cid = world["id"]
    chief = await add_user(accounts, "chief@olga.example", companies={cid: "company_admin"})
    body = {"email": "new@olga.example", "role": "company_admin"}
    allowed = {
        "its company admin": member_headers(chief, cid, Role.COMPANY_ADMIN, Role.BUYER),
        "its sales manager": world["olga"],
        "the head of sales": as_role(Role.HEAD_OF_SALES),
        "an admin": ADMIN,
    }
    for who, headers in allowed.items():
        async with client(accounts, headers) as http:
            answer = await http.post(f"/companies/{cid}/invitations", json=body)
        assert answer.status_code == 201, (who, answer.text)
    async with client(accounts) as http:
        pricing = await http.post(
            f"/companies/{cid}/invitations", json=body, headers=as_role(Role.PRICING_MANAGER)
        )
        buyer = await http.post(
            f"/companies/{cid}/invitations",
            json=body,
            headers=member_headers(world["buyer"], cid),
        )
    assert pricing.status_code == 403 and buyer.status_code == 403
