"""Typed attributes: declared by a feed, carried by the catalog feed, filtered on."""

from __future__ import annotations

import json

from sqlalchemy import text

from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.catalog.world import ATTRIBUTES, BUYER, as_csv, assert_rejected, feed, listed_skus


def product(sku: str, attributes: dict | None, **more) -> dict:
    row = {"sku": sku, "name": more.pop("name", sku), "attributes": None}
    if attributes is not None:
        row["attributes"] = json.dumps(attributes)
    return {**row, **more}


async def seeded(app) -> None:
    assert (await feed(app, ATTRIBUTES, "attributes"))["result"]["created"] == 3
    job = await feed(
        app,
        as_csv(
            [
                product("T-100", {"color": "red", "width_mm": 100, "frost_proof": True}),
                product("T-150", {"color": "blue", "width_mm": 150.5}),
                product("T-300", {"color": "red", "width_mm": 300, "frost_proof": False}),
                product("T-0", None),
            ]
        ),
    )
    assert job["state"] == "succeeded", job


async def test_products_are_filtered_by_typed_attributes(catalog):
    await seeded(catalog)
    async with client(catalog, BUYER) as http:
        assert await listed_skus(http, **{"attr.color": "red"}) == ["T-100", "T-300"]
        assert await listed_skus(http, **{"attr.color": "red,blue"}) == ["T-100", "T-150", "T-300"]
        assert await listed_skus(http, **{"attr.width_mm": "100..200"}) == ["T-100", "T-150"]
        assert await listed_skus(http, **{"attr.width_mm": "150.5"}) == ["T-150"]
        assert await listed_skus(http, **{"attr.width_mm": "200.."}) == ["T-300"]
        assert await listed_skus(http, **{"attr.color": "red", "attr.width_mm": "..250"}) == [
            "T-100"
        ]
        assert await listed_skus(http, **{"attr.frost_proof": "false"}) == ["T-300"]
        one = (await http.get("/products/T-100")).json()
        declared = (await http.get("/attributes")).json()
    assert one["attributes"] == {"color": "red", "width_mm": 100, "frost_proof": True}
    assert [(a["name"], a["type"], a["unit"]) for a in declared] == [
        ("color", "text", None),
        ("frost_proof", "bool", None),
        ("width_mm", "number", "mm"),
    ]


async def test_a_bad_filter_is_a_problem_naming_the_parameter(catalog):
    await seeded(catalog)
    async with client(catalog, BUYER) as http:
        answer = await http.get(
            "/products", params={"attr.size": "L", "attr.width_mm": "wide", "attr.color": "red"}
        )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert {(e["field"], e["message"]) for e in answer.json()["errors"]} == {
        ("attr.size", "is not a declared attribute"),
        ("attr.width_mm", "'wide' is not a number"),
    }


async def test_attributes_sent_are_merged_and_null_removes_one(catalog):
    await seeded(catalog)
    job = await feed(
        catalog, as_csv([product("T-100", {"color": "green", "frost_proof": None}, name="")])
    )
    assert job["result"]["updated"] == 1
    async with client(catalog, BUYER) as http:
        one = (await http.get("/products/T-100")).json()
    assert one["attributes"] == {"color": "green", "width_mm": 100}


async def test_undeclared_or_mistyped_values_are_rejected_rows_and_nothing_changes(catalog):
    await seeded(catalog)
    job = await feed(
        catalog,
        as_csv(
            [
                product("T-100", {"color": 5}),
                {"sku": "T-150", "name": "", "attributes": "{not json"},
                product("T-300", {"size": "L"}),
                {"sku": "T-0", "name": "", "attributes": "[1, 2]"},
                product("T-NEW", {"width_mm": "100"}),
            ]
        ),
    )
    await assert_rejected(
        catalog,
        job,
        "1,attributes.color,must be a text",
        "2,attributes,is not valid JSON",
        "3,attributes.size,is not a declared attribute",
        "4,attributes,must be a JSON object",
        "5,attributes.width_mm,must be a number",
    )
    async with catalog.state.sessionmaker() as session:
        stored = await session.scalar(text("SELECT attributes FROM products WHERE sku = 'T-100'"))
    assert stored["color"] == "red"


async def test_a_type_in_use_cannot_change(catalog):
    await seeded(catalog)
    job = await feed(catalog, "name,type\ncolor,number\nfrost_proof,bool\n", "attributes")
    await assert_rejected(catalog, job, "1,type,products hold values of another type")


async def test_roles(catalog):
    async with client(catalog, as_role(Role.PARTNER, kind="api_key", subject="m")) as http:
        assert (await http.get("/attributes")).status_code == 403
    async with client(catalog, {**BUYER, "Content-Type": "text/csv"}) as http:
        assert (await http.post("/feeds/attributes", content=ATTRIBUTES)).status_code == 403
