"""Each service's Settings declares the services it calls, no more: the kernel's settings name
no service, and a call to an undeclared one says which URL is missing."""

from __future__ import annotations

import importlib
import os

import pytest
from pydantic_settings import SettingsConfigDict

from shared.settings import EdgeSettings, ServiceSettings, upstream_url
from shared.upstream import Upstreams

CALLS = {
    "accounts": {},
    "catalog": {"pricing_url": "pricing"},
    "pricing": {"accounts_url": "accounts"},
    "orders": {"accounts_url": "accounts", "catalog_url": "catalog", "pricing_url": "pricing"},
    "analytics": {"accounts_url": "accounts", "pricing_url": "pricing"},
    "notifications": {},
}


class Caller(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CALLER_", extra="ignore")

    service_name: str = "caller"
    pricing_url: str = upstream_url("pricing", "http://127.0.0.1:8003/")


def test_the_kernel_settings_name_no_service():
    assert ServiceSettings.upstream_fields() == {}
    assert [n for n in ServiceSettings.model_fields if n.endswith("_url")] == ["database_url"]
    assert EdgeSettings.upstream_fields() == {}


@pytest.mark.parametrize("service", sorted(CALLS))
def test_each_service_declares_the_services_it_calls(service):
    settings = importlib.import_module(f"services.{service}.settings").Settings
    assert settings.upstream_fields() == CALLS[service]


def test_the_gateway_knows_every_service():
    settings = importlib.import_module("services.gateway.settings").Settings()
    assert sorted(settings.upstreams()) == sorted(
        ["accounts", "catalog", "pricing", "orders", "analytics", "notifications"]
    )


async def test_a_call_to_an_undeclared_service_names_the_missing_url():
    upstreams = Upstreams(Caller(pricing_url="http://pricing.internal:8000/"))
    try:
        assert upstreams.urls == {"pricing": "http://pricing.internal:8000"}
        with pytest.raises(
            LookupError, match=r"accounts is not an upstream of caller.*accounts_url"
        ):
            await upstreams.call("accounts", "GET", "/companies")
    finally:
        await upstreams.aclose()


@pytest.mark.parametrize("service", sorted(CALLS))
def test_b2b_run_gives_each_service_the_address_of_the_services_it_calls(service, monkeypatch):
    from b2b.cli import _service_env

    for name in [n for n in os.environ if n.endswith("_URL")]:
        monkeypatch.delenv(name)
    ports = {name: 9000 + i for i, name in enumerate(["gateway", *CALLS])}
    env = _service_env(service, None, "127.0.0.1:9092", ports)
    given = {n: v for n, v in env.items() if n.endswith("_URL") and n.startswith(service.upper())}
    assert given == {
        f"{service.upper()}_{field.upper()}": f"http://127.0.0.1:{ports[other]}"
        for field, other in CALLS[service].items()
    }
