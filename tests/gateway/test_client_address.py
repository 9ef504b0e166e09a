"""The anonymous rate limit counts by the caller's address: X-Forwarded-For is believed only
from the proxies configured in front of the gateway (none by default), so a caller cannot
choose a fresh bucket for every request by sending a new X-Forwarded-For."""

from __future__ import annotations

import asyncio
import os
import subprocess

import httpx
import pytest

from b2b.cli import service_command
from services.gateway.domain.clients import client_address, parse_networks
from services.gateway.settings import Settings
from shared.runtime import free_port, wait_for_port
from shared.testing.fixtures import client
from tests.gateway.upstreams import upstream_app

PROXIES = parse_networks("10.0.0.0/8, 127.0.0.1")
LOGIN = "/api/v1/accounts/auth/login"


@pytest.mark.parametrize(
    ("peer", "forwarded", "caller"),
    [
        ("203.0.113.7", ["198.51.100.1"], "203.0.113.7"),  # not our proxy: its header is ignored
        ("10.1.2.3", ["198.51.100.1"], "198.51.100.1"),
        ("10.1.2.3", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # the made-up hop is left of it
        ("10.1.2.3", ["198.51.100.1, 10.9.9.9"], "198.51.100.1"),  # through two of our proxies
        ("10.1.2.3", ["198.51.100.1", "10.9.9.9"], "198.51.100.1"),  # headers in order
        ("10.1.2.3", [], "10.1.2.3"),
        ("10.1.2.3", ["not-an-address"], "10.1.2.3"),
        ("127.0.0.1", ["2001:db8::1"], "2001:db8::1"),
    ],
)
def test_the_caller_is_the_peer_unless_a_trusted_proxy_names_it(peer, forwarded, caller):
    assert client_address(peer, forwarded, PROXIES) == caller


def test_a_bad_trusted_proxy_is_refused_at_start():
    with pytest.raises(ValueError, match="not-a-net"):
        Settings(trusted_proxies="10.0.0.0/8, not-a-net")


async def _logins(http: httpx.AsyncClient, *forwarded: str) -> list[int]:
    return [
        (await http.post(LOGIN, json={}, headers={"X-Forwarded-For": f})).status_code
        for f in forwarded
    ]


async def test_without_trusted_proxies_a_made_up_forwarded_for_changes_no_bucket(start_gateway):
    gateway = await start_gateway(
        {"accounts": upstream_app()}, rate_limit_per_minute=1, rate_limit_burst=2
    )
    async with client(gateway) as http:
        codes = await _logins(http, "203.0.113.1", "203.0.113.2", "203.0.113.3")
        echoed = await http.post(LOGIN, json={}, headers={"X-Forwarded-For": "6.6.6.6"})
    assert codes == [200, 200, 429]
    assert echoed.status_code == 429


async def test_behind_a_trusted_proxy_each_caller_has_its_own_bucket(start_gateway):
    gateway = await start_gateway(
        {"accounts": upstream_app()},
        rate_limit_per_minute=1,
        rate_limit_burst=2,
        trusted_proxies="127.0.0.1",  # the test client's address
    )
    async with client(gateway) as http:
        each_own = await _logins(http, "203.0.113.1", "203.0.113.2", "203.0.113.3")
        # A caller prepending made-up hops is still the address our proxy saw.
        spoofing = await _logins(http, "1.1.1.1, 203.0.113.9", "2.2.2.2, 203.0.113.9")
        third = await http.post(LOGIN, json={}, headers={"X-Forwarded-For": "3.3.3.3, 203.0.113.9"})
        forwarded = await http.post(LOGIN, json={}, headers={"X-Forwarded-For": "203.0.113.4"})
    assert each_own == [200, 200, 200]
    assert spoofing == [200, 200] and third.status_code == 429
    assert forwarded.json()["headers"]["x-forwarded-for"] == "203.0.113.4, 127.0.0.1"


async def test_the_gateway_as_b2b_run_starts_it_believes_no_local_caller():
    """Uvicorn believes X-Forwarded-For from 127.0.0.1 unless told not to; `b2b run` (and the
    container image) tell it, so the gateway's own rule is the only one."""
    port = free_port()
    env = {
        **os.environ,
        "GATEWAY_ENVIRONMENT": "test",
        "GATEWAY_LOG_JSON": "false",
        "GATEWAY_RATE_LIMIT_PER_MINUTE": "1",
        "GATEWAY_RATE_LIMIT_BURST": "2",
        "GATEWAY_ACCOUNTS_URL": "http://127.0.0.1:1",
    }
    process = subprocess.Popen(
        service_command("gateway", port),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await asyncio.to_thread(wait_for_port, "127.0.0.1", port, 30)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            codes = await _logins(http, "203.0.113.1", "203.0.113.2", "203.0.113.3")
    finally:
        process.terminate()
        process.wait(10)
    assert codes == [503, 503, 429]  # accounts is down; the third is one too many
