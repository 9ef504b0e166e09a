"""The contracts stay compatible with the last released ones (openapi/released/<version>/):
a change that would break a client built on the release fails here unless the document's
major version was bumped."""

from __future__ import annotations

import copy
import json

import pytest

from b2b import apicompat, apidocs

RELEASE = apicompat.latest_release()


def released(name: str) -> dict:
    assert RELEASE is not None, "no released contract: run `b2b release`"
    return json.loads((RELEASE / name).read_text())


@pytest.mark.parametrize("name", sorted(apidocs.documents()))
def test_current_contract_is_compatible_with_the_last_release(name):
    current = json.loads((apidocs.OPENAPI_DIR / name).read_text())
    problems = apicompat.breaking_changes(name, released(name), current)
    assert problems == [], (
        f"{name} breaks clients of release {RELEASE.name}: {problems[:20]}; "
        "keep the old shape, or bump info.version's major and `b2b release` it"
    )


def test_removals_and_new_requirements_are_caught():
    old = released("pricing.openapi.json")
    new = copy.deepcopy(old)
    del new["paths"]["/promotions/{code}"]
    del new["paths"]["/price-lists/{code}"]["patch"]
    read = new["components"]["schemas"]["PriceListRead"]
    del read["properties"]["currency"]
    create = new["components"]["schemas"]["PriceListCreate"]
    create["required"] = [*create.get("required", []), "name"]
    new["paths"]["/price-lists"]["get"]["parameters"].append(
        {"in": "query", "name": "region", "required": True, "schema": {"type": "string"}}
    )
    creating = new["paths"]["/price-lists"]["post"]["parameters"]
    key = next(p for p in creating if p["name"].lower() == "idempotency-key")
    key["required"] = True  # optional before, and the server took requests without it
    problems = apicompat.breaking_changes("pricing.openapi.json", old, new)
    text = "\n".join(problems)
    assert "path /promotions/{code} removed" in problems
    assert "PATCH /price-lists/{code} removed" in problems
    assert "GET /price-lists/{code} 200: field `currency` removed" in problems
    assert "POST /price-lists request: field `name` is newly required" in problems
    assert "GET /price-lists: parameter region (query) newly required" in problems
    assert "POST /price-lists: parameter idempotency-key (header) newly required" in problems
    assert "items[].currency" in text  # the list pages lose it too

    new["info"]["version"] = "1.0.0"
    assert apicompat.breaking_changes("pricing.openapi.json", old, new) == []


def test_a_removed_enum_value_and_a_removed_event_field_are_caught():
    old = released("asyncapi.json")
    new = copy.deepcopy(old)
    schemas = new["components"]["schemas"]
    _name, schema = next(
        (n, s) for n, s in sorted(schemas.items()) if n.endswith("V1") and s.get("properties")
    )
    field = sorted(schema["properties"])[0]
    del schema["properties"][field]
    problems = apicompat.breaking_changes("asyncapi.json", old, new)
    assert any(p.endswith(f"field `data.{field}` removed") for p in problems), problems

    accounts_old = released("accounts.openapi.json")
    accounts_new = copy.deepcopy(accounts_old)
    role = accounts_new["components"]["schemas"]["Role"]
    role["enum"] = [v for v in role["enum"] if v != "partner"]
    problems = apicompat.breaking_changes("accounts.openapi.json", accounts_old, accounts_new)
    assert any('lost the value "partner"' in p for p in problems), problems


def test_a_release_is_never_overwritten(tmp_path):
    (tmp_path / "a.json").write_text("{}")
    apicompat.cut_release("9.9.9", tmp_path)
    assert (tmp_path / "released" / "9.9.9" / "a.json").read_text() == "{}"
    with pytest.raises(FileExistsError):
        apicompat.cut_release("9.9.9", tmp_path)
