"""Version 2 of the API beside version 1: every list is a page in v2; nothing else differs."""

from __future__ import annotations

import json

import pytest

from b2b.apidocs import OPENAPI_DIR
from shared.testing.fixtures import client
from tests.gateway.test_gateway import admin_token, bearer

V1 = json.loads((OPENAPI_DIR / "gateway.openapi.json").read_text())
V2 = json.loads((OPENAPI_DIR / "gateway.v2.openapi.json").read_text())


def _gets(document: dict) -> dict[str, dict]:
    return {path: item["get"] for path, item in document["paths"].items() if "get" in item}


def _answer(document: dict, operation: dict) -> dict:
    schema = operation["responses"]["200"]["content"].get("application/json", {}).get("schema", {})
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_every_list_of_version_2_is_a_page():
    bare = [
        path
        for path, operation in _gets(V2).items()
        if "200" in operation["responses"] and _answer(V2, operation).get("type") == "array"
    ]
    assert bare == []
    pages = [p for p, op in _gets(V2).items() if "next_cursor" in str(_answer(V2, op))]
    assert len(pages) >= 40


def test_version_2_has_every_operation_of_version_1_with_its_operation_id():
    def operations(document: dict, prefix: str) -> dict[tuple[str, str], str]:
        return {
            (path.removeprefix(prefix), method): operation["operationId"]
            for path, item in document["paths"].items()
            for method, operation in item.items()
            if isinstance(operation, dict) and "operationId" in operation
        }

    assert operations(V2, "/api/v2") == operations(V1, "/api/v1")
    assert V2["info"]["version"].startswith("2.")


def test_version_1_keeps_its_bare_lists_and_marks_them_deprecated():
    v1_lists = {
        path.removeprefix("/api/v1")
        for path, operation in _gets(V1).items()
        if "200" in operation["responses"] and _answer(V1, operation).get("type") == "array"
    }
    assert "/accounts/client-groups" in v1_lists
    for path in v1_lists:
        assert _gets(V1)["/api/v1" + path].get("deprecated") is True, path
        assert "cursor" in str(_gets(V2)["/api/v2" + path]["parameters"]), path


async def test_a_list_pages_in_version_2_and_is_whole_in_version_1(gateway):
    gw = await gateway()
    async with client(gw, bearer(await admin_token(gw))) as http:
        for code in ("north", "east", "south"):
            created = await http.post(
                "/api/v2/accounts/client-groups", json={"code": code, "name": code.title()}
            )
            assert created.status_code == 201, created.text
        first = await http.get("/api/v2/accounts/client-groups", params={"limit": 2})
        rest = await http.get(
            "/api/v2/accounts/client-groups",
            params={"limit": 2, "cursor": first.json()["next_cursor"]},
        )
        whole = await http.get("/api/v1/accounts/client-groups")
        forged = await http.get("/api/v2/accounts/client-groups", params={"cursor": "WzEsMl0"})
    assert [g["code"] for g in first.json()["items"]] == ["east", "north"]
    assert rest.json() == {"items": [rest.json()["items"][0]], "next_cursor": None}
    assert rest.json()["items"][0]["code"] == "south"
    assert [g["code"] for g in whole.json()] == ["east", "north", "south"]
    assert forged.status_code == 422
    assert forged.headers["content-type"] == "application/problem+json"


async def test_what_did_not_change_answers_alike_and_links_stay_in_their_version(gateway):
    gw = await gateway()
    async with client(gw, bearer(await admin_token(gw))) as http:
        created = await http.post(
            "/api/v2/accounts/companies", json={"legal_name": "Acme", "external_id": "A-1"}
        )
        assert created.status_code == 201, created.text
        location = created.headers["location"]
        again = await http.get(location)
        in_v1 = await http.get(location.replace("/api/v2/", "/api/v1/"))
    assert location.startswith("/api/v2/accounts/companies/")
    assert again.status_code == 200
    assert again.json() == in_v1.json()
    assert again.headers["etag"] == in_v1.headers["etag"]


@pytest.mark.parametrize(
    "path", ["/api/v1/accounts/v2/client-groups", "/api/v2/accounts/v2/client-groups"]
)
async def test_a_service_s_version_prefix_is_not_a_path(gateway, path):
    gw = await gateway()
    async with client(gw, bearer(await admin_token(gw))) as http:
        response = await http.get(path)
    assert response.status_code == 404


async def test_the_gateway_serves_both_documents_and_their_pages(start_gateway):
    gw = await start_gateway()
    async with client(gw) as http:
        v2 = await http.get("/v2/openapi.json")
        page = await http.get("/v2/docs")
    assert v2.status_code == 200
    assert v2.json()["info"]["version"].startswith("2.")
    assert page.status_code == 200
    assert "/v2/openapi.json" in page.text
