"""Access taken away takes effect within seconds through the gateway, not when the token
expires (an hour) or the gateway's API-key cache does (30 s): a member removed from its
company, a person deactivated, a key revoked. With the default settings."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx

from services.gateway.domain.revocations import Revocations
from shared.auth import Principal, Role
from shared.testing.fixtures import client
from tests.accounts.factories import add_user

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


def test_tokens_older_than_the_persons_access_generation_are_refused():
    person = Principal(kind="user", subject=uuid.uuid4(), roles={Role.BUYER})
    key = Principal(kind="api_key", subject=uuid.uuid4(), roles={Role.INTEGRATOR})
    revoked = Revocations(users={str(person.subject): 2}, api_keys=frozenset({str(key.subject)}))
    assert revoked.refuses(person, 1) and not revoked.refuses(person, 2)
    assert revoked.refuses(key)
    assert not Revocations().refuses(person, 0) and not Revocations().refuses(key)
