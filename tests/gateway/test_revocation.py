"""Access taken away takes effect within seconds through the gateway, not when the token
expires (an hour) or the gateway's API-key cache does (30 s): a member removed from its
company, a person deactivated, a key revoked, a company blocked (by staff or by ERP's client
feed). With the default settings."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx

from services.gateway.domain.revocations import Revocations
from shared.auth import Principal, Role
from shared.testing.fixtures import client
from tests.accounts.factories import add_user
from tests.accounts.test_feeds import run_jobs

WITHIN_SECONDS = 5.0  # the gateway asks accounts every 2 s by default


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _login(gw, email: str, password: str = "secret-password") -> httpx.Response:
    async with client(gw) as http:
        return await http.post(
            "/api/v1/accounts/auth/login", json={"email": email, "password": password}
        )


async def _token(gw, email: str, password: str = "secret-password") -> str:
    response = await _login(gw, email, password)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def _refused_within(gw, headers: dict[str, str], path: str) -> float:
    """Seconds until `path` answers 401 to these credentials; fails after WITHIN_SECONDS."""
    started = time.monotonic()
    async with client(gw, headers) as http:
        while time.monotonic() - started < WITHIN_SECONDS:
            status = (await http.get(path)).status_code
            if status == 401:
                return time.monotonic() - started
            assert status == 200
            await asyncio.sleep(0.1)
    raise AssertionError(f"{path} still answered after {WITHIN_SECONDS} s")


async def _accepted_within(gw, headers: dict[str, str], path: str) -> None:
    started = time.monotonic()
    async with client(gw, headers) as http:
        while (status := (await http.get(path)).status_code) != 200:
            assert status == 401 and time.monotonic() - started < WITHIN_SECONDS
            await asyncio.sleep(0.1)


async def _switch(gw, headers: dict[str, str], company_id: str) -> httpx.Response:
    async with client(gw, headers) as http:
        return await http.post(
            "/api/v1/accounts/auth/switch-company", json={"company_id": company_id}
        )


async def _set_status(gw, admin: dict[str, str], company_id: str, status: str) -> None:
    async with client(gw, admin) as http:
        path = f"/api/v1/accounts/companies/{company_id}"
        etag = (await http.get(path)).headers["etag"]
        changed = await http.patch(path, json={"status": status}, headers={"If-Match": etag})
    assert changed.status_code == 200, changed.text


async def _acts_for(gw, headers: dict[str, str]) -> tuple[str, list[str]]:
    """The company the caller acts for and those it may, as the services are told."""
    async with client(gw, headers) as http:
        orders = await http.get("/api/v1/orders/orders")  # the echo shows who called
    assert orders.status_code == 200, orders.text
    return orders.json()["principal"]["company_id"], orders.json()["principal"]["companies"]


async def test_a_removed_member_loses_access_within_seconds(gateway):
    gw = await gateway()
    admin = bearer(await _token(gw, "admin@example.com", "admin"))
    async with client(gw, admin) as http:
        alpha, beta = [
            (await http.post("/api/v1/accounts/companies", json={"legal_name": name})).json()
            for name in ("Alpha LLC", "Beta LLC")
        ]
    buyer_id = await add_user(
        gw.state.accounts,
        "anna@holding.example",
        companies={uuid.UUID(alpha["id"]): "buyer", uuid.UUID(beta["id"]): "buyer"},
    )
    buyer = bearer(await _token(gw, "anna@holding.example"))
    async with client(gw, buyer) as http:
        orders = await http.get("/api/v1/orders/orders")  # the echo shows who called
    assert orders.json()["principal"]["company_id"] == alpha["id"]  # the first by name

    async with client(gw, admin) as http:
        removed = await http.delete(f"/api/v1/accounts/companies/{alpha['id']}/members/{buyer_id}")
    assert removed.status_code == 204
    await _refused_within(gw, buyer, "/api/v1/orders/orders")

    # Logging in again gives a token that works, for the company it still belongs to.
    async with client(gw, bearer(await _token(gw, "anna@holding.example"))) as http:
        orders = await http.get("/api/v1/orders/orders")
    assert orders.status_code == 200
    assert orders.json()["principal"]["company_id"] == beta["id"]
    assert orders.json()["principal"]["companies"] == [beta["id"]]


async def test_a_deactivated_person_loses_access_within_seconds(gateway):
    gw = await gateway()
    admin = bearer(await _token(gw, "admin@example.com", "admin"))
    manager_id = await add_user(
        gw.state.accounts, "boris@seller.example", staff_role="sales_manager"
    )
    manager = bearer(await _token(gw, "boris@seller.example"))
    async with client(gw, admin) as http:
        deactivated = await http.delete(f"/api/v1/accounts/users/{manager_id}")
        myself = await http.get("/api/v1/accounts/me")
        not_myself = await http.delete(f"/api/v1/accounts/users/{myself.json()['id']}")
    assert deactivated.status_code == 204
    assert not_myself.status_code == 409
    await _refused_within(gw, manager, "/api/v1/accounts/me")
    assert (await _login(gw, "boris@seller.example")).status_code == 401


async def test_a_revoked_api_key_is_refused_within_seconds_though_the_gateway_cached_it(gateway):
    gw = await gateway()  # the API-key cache keeps a verified key 30 s
    admin = bearer(await _token(gw, "admin@example.com", "admin"))
    async with client(gw, admin) as http:
        key = (
            await http.post("/api/v1/accounts/api-keys", json={"name": "ERP", "role": "integrator"})
        ).json()
    erp = {"X-API-Key": key["key"]}
    async with client(gw, erp) as http:
        assert (await http.get("/api/v1/accounts/feeds/jobs")).status_code == 200
    async with client(gw, admin) as http:
        assert (await http.delete(f"/api/v1/accounts/api-keys/{key['id']}")).status_code == 204
    await _refused_within(gw, erp, "/api/v1/accounts/feeds/jobs")


async def test_a_blocked_company_is_taken_from_its_people_within_seconds_not_their_others(
    gateway,
):
    gw = await gateway()
    admin = bearer(await _token(gw, "admin@example.com", "admin"))
    async with client(gw, admin) as http:
        alpha, beta = [
            (await http.post("/api/v1/accounts/companies", json={"legal_name": name})).json()["id"]
            for name in ("Alpha LLC", "Beta LLC")
        ]
    await add_user(
        gw.state.accounts,
        "anna@holding.example",
        companies={uuid.UUID(alpha): "buyer", uuid.UUID(beta): "company_admin"},
    )
    for_alpha = bearer(await _token(gw, "anna@holding.example"))  # the first by name
    for_beta = bearer((await _switch(gw, for_alpha, beta)).json()["access_token"])
    assert await _acts_for(gw, for_alpha) == (alpha, [alpha, beta])

    await _set_status(gw, admin, alpha, "blocked")
    await _refused_within(gw, for_alpha, "/api/v1/orders/orders")
    # Beta stays hers, and no token of hers lists Alpha any more.
    assert await _acts_for(gw, for_beta) == (beta, [beta])
    assert (await _switch(gw, for_beta, alpha)).status_code == 404
    switched = await _switch(gw, for_alpha, beta)  # the one call left to a token for Alpha
    assert switched.status_code == 200
    assert [m["company_id"] for m in switched.json()["memberships"]] == [beta]
    assert await _acts_for(gw, bearer(switched.json()["access_token"])) == (beta, [beta])
    relogged = bearer(await _token(gw, "anna@holding.example"))
    assert await _acts_for(gw, relogged) == (beta, [beta])

    # Unblocked, Alpha is hers again from her next token on.
    await _set_status(gw, admin, alpha, "active")
    again = await _switch(gw, bearer(await _token(gw, "anna@holding.example")), alpha)
    assert again.status_code == 200
    await _accepted_within(gw, bearer(again.json()["access_token"]), "/api/v1/orders/orders")
    assert await _acts_for(gw, bearer(again.json()["access_token"])) == (alpha, [alpha, beta])


async def test_erps_client_feed_blocks_companies_and_their_people_lose_them_within_seconds(
    gateway,
):
    """A row with status `blocked`, and a `scope=full` feed leaving a client out, alike."""
    gw = await gateway()
    admin = bearer(await _token(gw, "admin@example.com", "admin"))

    async def post_clients(body: str, **params: str) -> None:
        async with client(gw, {**admin, "Content-Type": "text/csv"}) as http:
            posted = await http.post("/api/v1/accounts/feeds/clients", content=body, params=params)
        assert posted.status_code == 202, posted.text
        await run_jobs(gw.state.accounts)

    await post_clients("external_id,legal_name\nC-1,Alpha LLC\nC-2,Beta LLC\nC-3,Gamma LLC\n")
    async with client(gw, admin) as http:
        listed = (await http.get("/api/v1/accounts/companies")).json()["items"]
    ids = {c["external_id"]: c["id"] for c in listed}
    await add_user(
        gw.state.accounts,
        "vera@holding.example",
        companies={uuid.UUID(ids["C-1"]): "buyer", uuid.UUID(ids["C-2"]): "buyer"},
    )
    await add_user(
        gw.state.accounts, "gleb@gamma.example", companies={uuid.UUID(ids["C-3"]): "buyer"}
    )
    vera_alpha = bearer(await _token(gw, "vera@holding.example"))
    vera_beta = bearer((await _switch(gw, vera_alpha, ids["C-2"])).json()["access_token"])
    gleb = bearer(await _token(gw, "gleb@gamma.example"))

    await post_clients(
        "external_id,legal_name,status\nC-1,Alpha LLC,\nC-3,Gamma LLC,blocked\n", scope="full"
    )
    await _refused_within(gw, vera_beta, "/api/v1/orders/orders")  # C-2 left out of the file
    await _refused_within(gw, gleb, "/api/v1/orders/orders")  # C-3 blocked by its row
    assert await _acts_for(gw, vera_alpha) == (ids["C-1"], [ids["C-1"]])


def test_tokens_older_than_the_persons_access_generation_are_refused():
    person = Principal(kind="user", subject=uuid.uuid4(), roles={Role.BUYER})
    key = Principal(kind="api_key", subject=uuid.uuid4(), roles={Role.INTEGRATOR})
    revoked = Revocations(users={str(person.subject): 2}, api_keys=frozenset({str(key.subject)}))
    assert revoked.refuses(person, 1) and not revoked.refuses(person, 2)
    assert revoked.refuses(key)
    assert not Revocations().refuses(person, 0) and not Revocations().refuses(key)


def test_tokens_acting_for_a_blocked_company_are_refused_and_none_lists_it():
    blocked, other = uuid.uuid4(), uuid.uuid4()
    revoked = Revocations(companies=frozenset({blocked}))

    def person(company_id: uuid.UUID | None) -> Principal:
        return Principal(
            kind="user",
            subject=uuid.uuid4(),
            roles={Role.BUYER},
            company_id=company_id,
            companies=[blocked, other],
        )

    assert revoked.blocks(person(blocked)) and not revoked.blocks(person(other))
    assert not revoked.blocks(person(None)) and not Revocations().blocks(person(blocked))
    assert revoked.without_blocked(person(other)).companies == [other]
    assert Revocations().without_blocked(person(other)).companies == [blocked, other]
