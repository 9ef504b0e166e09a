"""Facets: counts by brand, category and attribute value for the current filter."""

from __future__ import annotations

import json

from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.catalog.world import ATTRIBUTES, BUYER, TREE, as_csv, feed


def product(sku, name, brand, category, attributes):
    return {
        "sku": sku,
        "name": name,
        "brand": brand,
        "category": category,
        "attributes": json.dumps(attributes),
    }


async def seeded(app) -> None:
    await feed(app, TREE, "categories")
    await feed(app, ATTRIBUTES, "attributes")
    job = await feed(
        app,
        as_csv(
            [
                product(
                    "G-1", "Tile glue", "Ceresit", "tile-glue", {"color": "grey", "width_mm": 5}
                ),
                product("G-2", "Tile glue flex", "Ceresit", "tile-glue", {"color": "white"}),
                product("G-3", "Glue", "Knauf", "adhesives", {"color": "grey", "width_mm": 25}),
                product("B-1", "Board", "Knauf", "boards", {"frost_proof": True}),
            ]
        ),
    )
    assert job["state"] == "succeeded", job


def counts(values: list[dict]) -> dict:
    return {v["value"]: v["count"] for v in values}


async def test_facets_count_what_the_filter_matches(catalog):
    await seeded(catalog)
    async with client(catalog, BUYER) as http:
        everything = (await http.get("/products/facets")).json()
        glue = (await http.get("/products/facets", params={"q": "glue"})).json()
        grey = (
            await http.get(
                "/products/facets", params={"category": "adhesives", "attr.color": "grey"}
            )
        ).json()
    assert everything["total"] == 4
    assert counts(everything["brands"]) == {"Ceresit": 2, "Knauf": 2}
    assert {v["value"]: (v["label"], v["count"]) for v in everything["categories"]} == {
        "tile-glue": ("Tile glue", 2),
        "adhesives": ("Adhesives", 1),
        "boards": ("Boards", 1),
    }
    attributes = {a["name"]: a for a in everything["attributes"]}
    assert counts(attributes["color"]["values"]) == {"grey": 2, "white": 1}
    assert (attributes["color"]["label"], attributes["color"]["type"]) == ("Colour", "text")
    assert (attributes["width_mm"]["min"], attributes["width_mm"]["max"]) == ("5", "25")
    assert counts(attributes["frost_proof"]["values"]) == {True: 1}

    assert glue["total"] == 3 and counts(glue["brands"]) == {"Ceresit": 2, "Knauf": 1}
    assert "frost_proof" not in {a["name"] for a in glue["attributes"]}
    assert grey["total"] == 2 and counts(grey["categories"]) == {"tile-glue": 1, "adhesives": 1}


async def test_facets_refuse_bad_filters_and_wrong_roles(catalog):
    await seeded(catalog)
    async with client(catalog, BUYER) as http:
        bad = await http.get("/products/facets", params={"attr.nope": "1"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "attr.nope"
    async with client(catalog, as_role(Role.PARTNER, kind="api_key", subject="m")) as http:
        assert (await http.get("/products/facets")).status_code == 403
