"""The typed client (clients/b2b_client) against the gateway document and the running gateway:
it calls only documented operations, its models read only documented fields, and it works
through the gateway's ASGI app as a real caller would."""

from __future__ import annotations

import inspect
import json
import re
import uuid

import httpx
import pytest

from b2b.apidocs import OPENAPI_DIR
from clients import b2b_client
from clients.b2b_client import ApiProblem, B2BClient
from clients.b2b_client.models import Model
from services.gateway.app import create_app as create_gateway
from services.gateway.settings import SERVICES, Settings
from shared.testing.fixtures import RoutingTransport, running
from tests.accounts.factories import add_user
from tests.stack import eventually

DOCUMENT = json.loads((OPENAPI_DIR / "gateway.openapi.json").read_text())
SCHEMAS = DOCUMENT["components"]["schemas"]


def operations() -> list[tuple[str, str, str]]:
    return [
        (name, *member.__operation__)
        for name, member in inspect.getmembers(B2BClient, inspect.isfunction)
        if hasattr(member, "__operation__")
    ]


def models() -> list[type[Model]]:
    found = {
        cls
        for cls in vars(b2b_client.models).values()
        if inspect.isclass(cls) and issubclass(cls, Model) and cls is not Model
    }
    return sorted(found, key=lambda cls: cls.__name__)


@pytest.mark.parametrize("name,method,path", operations())
def test_every_client_call_is_a_documented_operation(name, method, path):
    pattern = re.compile(
        "^"
        + re.sub(r"\{[^}]+\}", "[^/]+", re.escape(path).replace(r"\{", "{").replace(r"\}", "}"))
        + "$"
    )
    documented = [
        p for p, item in DOCUMENT["paths"].items() if method.lower() in item and pattern.match(p)
    ]
    assert documented, f"{name}: {method} {path} is not in the gateway document"


@pytest.mark.parametrize("model", models(), ids=lambda m: m.__name__)
def test_every_model_reads_only_what_its_schema_promises(model):
    schema = SCHEMAS[model.SCHEMA]
    documented = set(schema["properties"])
    always_sent = set(schema.get("required", []))
    for field, info in model.model_fields.items():
        assert field in documented, f"{model.__name__}.{field} is not in {model.SCHEMA}"
        if info.is_required():
            assert field in always_sent, f"{model.__name__}.{field} may be absent in {model.SCHEMA}"


async def test_the_client_drives_the_gateway(start_app):
    accounts = await start_app("accounts", run_workers=True)
    catalog = await start_app("catalog", run_workers=True)
    notifications = await start_app("notifications")
    apps = {"accounts": accounts, "catalog": catalog, "notifications": notifications}
    urls = {f"{n}_url": (f"http://{n}" if n in apps else "http://127.0.0.1:1") for n in SERVICES}
    gateway = create_gateway(
        Settings(environment="test", log_json=False, **urls), transport=RoutingTransport(apps)
    )
    transport = httpx.ASGITransport(app=gateway)
    async with running(gateway), B2BClient("http://gateway", transport=transport) as admin:
        await add_user(accounts, "boss@example.com", staff_role="admin")
        token = await admin.login("boss@example.com", "secret-password")
        assert token.access_token
        key = (
            await admin.http.post(
                "/api/v1/accounts/api-keys", json={"name": "ERP", "role": "integrator"}
            )
        ).json()["key"]
        async with B2BClient("http://gateway", api_key=key, transport=transport) as erp:
            job = await erp.post_feed(
                "accounts",
                "clients",
                b"external_id,legal_name,credit_limit_minor\nC-1,Alpha LLC,5000000\n",
                idempotency_key="clients-1",
            )
            assert job.state == "queued"

            async def finished():
                current = await erp.feed_job("accounts", job.id)
                return current if current.finished else None

            assert (await eventually(finished, within=30)).rows_applied == 1
            catalog_job = await erp.post_feed(
                "catalog",
                "catalog",
                b"sku,name,brand,category,unit\nKN-100,Knauf board,Knauf,boards,m2\n",
            )

            async def catalog_done():
                current = await erp.feed_job("catalog", catalog_job.id)
                return current if current.finished else None

            assert (await eventually(catalog_done, within=30)).state == "succeeded"
            with pytest.raises(ApiProblem) as refused:
                await erp.companies()  # an integrator key may only post and follow feeds
            assert refused.value.status == 403

        page = await admin.companies(q="Alpha")
        [company] = page.items
        assert (company.external_id, company.legal_name) == ("C-1", "Alpha LLC")
        products = await admin.search_products("Knauf")
        assert [p.sku for p in products.items] == ["KN-100"]
        inbox = await admin.inbox(unread=True)
        assert inbox.items == [] and inbox.next_cursor is None
        with pytest.raises(ApiProblem) as missing:
            await admin.order(str(uuid.uuid4()))
        assert missing.value.status == 503  # orders is down here: a problem, not a hang
