"""Login, acting for several legal entities, invitations, members, staff and API keys."""

from __future__ import annotations

import uuid

import pytest

from shared.auth import Role
from shared.contracts.accounts import PersonChangedV1
from shared.settings import DEV_JWT_SECRET
from shared.testing.fixtures import as_role, client, principal, signed
from shared.tokens import principal_from_token
from tests.accounts.factories import (
    ADMIN,
    accept,
    add_company,
    add_staff,
    add_user,
    invite,
    login,
    member_headers,
    staff_body,
)
from tests.accounts.test_companies import outbox

SYSTEM = signed(principal(Role.SYSTEM, kind="system", subject="gateway"))


async def test_bootstrap_admin_logs_in_and_wrong_password_is_401(accounts):
    ok = await login(accounts, "admin@example.com", "admin")
    wrong = await login(accounts, "admin@example.com", "nope")
    unknown = await login(accounts, "nobody@example.com", "admin")
    assert ok.status_code == 200
    claims = principal_from_token(ok.json()["access_token"], DEV_JWT_SECRET)
    assert claims.roles == {Role.ADMIN} and claims.company_id is None
    assert [wrong.status_code, unknown.status_code] == [401, 401]
    assert wrong.headers["content-type"] == "application/problem+json"


async def test_an_admin_makes_a_pricing_manager_who_logs_in_with_that_role(accounts):
    await add_staff(accounts, "pm@seller.example", "pricing_manager")
    token = (await login(accounts, "pm@seller.example", "long-password")).json()["access_token"]
    assert principal_from_token(token, DEV_JWT_SECRET).roles == {Role.PRICING_MANAGER}


async def test_holding_user_switches_legal_entity_without_logging_in_again(accounts):
    north = await add_company(accounts, legal_name="A North Ltd")
    south = await add_company(accounts, legal_name="B South Ltd")
    other = await add_company(accounts, legal_name="C Other Ltd")
    user = await add_user(
        accounts,
        "buyer@holding.example",
        companies={uuid.UUID(north["id"]): "company_admin", uuid.UUID(south["id"]): "buyer"},
    )
    token = (await login(accounts, "buyer@holding.example")).json()
    first = principal_from_token(token["access_token"], DEV_JWT_SECRET)
    assert str(first.company_id) == north["id"]  # first by legal name
    assert first.roles == {Role.COMPANY_ADMIN, Role.BUYER}
    assert {str(c) for c in first.companies} == {north["id"], south["id"]}

    async with client(accounts, signed(first)) as http:
        switched = await http.post("/auth/switch-company", json={"company_id": south["id"]})
        foreign = await http.post("/auth/switch-company", json={"company_id": other["id"]})
        me = await http.get("/me")
    assert switched.status_code == 200, switched.text
    second = principal_from_token(switched.json()["access_token"], DEV_JWT_SECRET)
    assert str(second.company_id) == south["id"] and second.roles == {Role.BUYER}
    assert second.subject == user
    assert foreign.status_code == 404
    assert {m["role"] for m in me.json()["memberships"]} == {"company_admin", "buyer"}


@pytest.fixture
async def administered(accounts):
    """A company, its admin's id and the admin's headers."""
    cid = uuid.UUID((await add_company(accounts))["id"])
    admin_id = await add_user(accounts, "boss@client.example", companies={cid: "company_admin"})
    return cid, admin_id, member_headers(admin_id, cid, Role.COMPANY_ADMIN, Role.BUYER)


async def test_invitation_creates_the_buyer_once_and_admin_removes_them(accounts, administered):
    cid, admin_id, boss = administered
    invitation = await invite(accounts, boss, cid, "New@Client.example")
    accepted = await accept(accounts, invitation, "New Buyer")
    again = await accept(accounts, invitation, "New Buyer")
    assert accepted.status_code == 200, accepted.text
    assert again.status_code == 404
    assert (await login(accounts, "new@client.example", "long-password")).status_code == 200

    async with client(accounts, boss) as http:
        members = (await http.get(f"/companies/{cid}/members")).json()
        new_id = next(m["user_id"] for m in members if m["email"] == "new@client.example")
        removed = await http.delete(f"/companies/{cid}/members/{new_id}")
        last_admin = await http.delete(f"/companies/{cid}/members/{admin_id}")
    assert removed.status_code == 204
    assert last_admin.status_code == 409
    # Removal takes effect at once, even though the removed buyer's token is still valid.
    async with client(accounts, member_headers(uuid.UUID(new_id), cid)) as http:
        assert (await http.get(f"/companies/{cid}")).status_code == 404


async def test_buyer_cannot_invite_or_manage_and_other_company_admin_gets_404(accounts):
    mine = await add_company(accounts)
    theirs = await add_company(accounts)
    buyer = await add_user(accounts, "b@mine.example", companies={uuid.UUID(mine["id"]): "buyer"})
    admin = await add_user(
        accounts, "a@theirs.example", companies={uuid.UUID(theirs["id"]): "company_admin"}
    )
    buyer_headers = member_headers(buyer, uuid.UUID(mine["id"]))
    foreign_admin = member_headers(admin, uuid.UUID(theirs["id"]), Role.COMPANY_ADMIN)
    body = {"email": "x@example.com"}
    async with client(accounts) as http:
        by_buyer = await http.post(
            f"/companies/{mine['id']}/invitations", json=body, headers=buyer_headers
        )
        by_foreign = await http.post(
            f"/companies/{mine['id']}/invitations", json=body, headers=foreign_admin
        )
        members = await http.get(f"/companies/{mine['id']}/members", headers=foreign_admin)
    assert by_buyer.status_code == 403
    assert by_foreign.status_code == 404
    assert members.status_code == 404


async def test_api_key_is_shown_once_verified_by_the_gateway_and_revocable(accounts):
    async with client(accounts, ADMIN) as http:
        created = (await http.post("/api-keys", json={"name": "ERP", "role": "integrator"})).json()
        partner_without_code = await http.post("/api-keys", json={"name": "P", "role": "partner"})
        listed = (await http.get("/api-keys")).json()
    assert created["key"].startswith(f"b2b_{created['prefix']}_")
    assert partner_without_code.status_code == 422
    assert "key" not in listed[0]

    async with client(accounts, SYSTEM) as http:
        good = await http.post("/internal/api-keys/verify", json={"key": created["key"]})
        bad = await http.post("/internal/api-keys/verify", json={"key": created["key"] + "x"})
        junk = await http.post("/internal/api-keys/verify", json={"key": "nonsense"})
    assert good.status_code == 200
    assert good.json()["roles"] == ["integrator"] and good.json()["subject"] == created["id"]
    assert [bad.status_code, junk.status_code] == [401, 401]

    async with client(accounts, ADMIN) as http:
        assert (await http.delete(f"/api-keys/{created['id']}")).status_code == 204
    async with client(accounts, SYSTEM) as http:
        revoked = await http.post("/internal/api-keys/verify", json={"key": created["key"]})
    assert revoked.status_code == 401


async def test_only_the_system_verifies_keys_and_only_admins_issue_them(accounts):
    async with client(accounts) as http:
        for role in (Role.ADMIN, Role.INTEGRATOR, Role.BUYER):
            verify = await http.post(
                "/internal/api-keys/verify", json={"key": "b2b_x_y"}, headers=as_role(role)
            )
            assert verify.status_code == 403, role
        for role in (
            Role.SALES_MANAGER,
            Role.INTEGRATOR,
            Role.PARTNER,
            Role.BUYER,
            Role.COMPANY_ADMIN,
        ):
            issue = await http.post(
                "/api-keys", json={"name": "k", "role": "integrator"}, headers=as_role(role)
            )
            assert issue.status_code == 403, role
        staff = await http.post(
            "/users",
            json=staff_body("sm@seller.example", "sales_manager"),
            headers=as_role(Role.SALES_MANAGER),
        )
    assert staff.status_code == 403


async def test_people_changes_are_published_for_notifications(accounts, administered):
    """person.changed carries who a person is and where they belong, after each change."""
    cid, _, boss = administered
    invitation = await invite(accounts, boss, cid, "b@client.example")
    await accept(accounts, invitation, "B")
    await add_staff(accounts, "m@seller.example", "sales_manager")
    events = [e["data"] for e in await outbox(accounts, PersonChangedV1.full_type())]
    assert [(e["email"], e["staff_role"], e["memberships"]) for e in events] == [
        ("b@client.example", None, [{"company_id": str(cid), "role": "buyer"}]),
        ("m@seller.example", "sales_manager", []),
    ]
    async with client(accounts, boss) as http:
        removed = await http.delete(f"/companies/{cid}/members/{events[0]['user_id']}")
        assert removed.status_code == 204
    last = (await outbox(accounts, PersonChangedV1.full_type()))[-1]["data"]
    assert (last["email"], last["memberships"]) == ("b@client.example", [])
