"""Full-text search with the SKU trigram search beside it, sort orders and cursors."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import text

from shared.clock import utcnow
from shared.testing.fixtures import client
from tests.catalog.world import ATTRIBUTES, BUYER, TREE, as_csv, feed, listed_skus


def product(sku: str, name: str, **more) -> dict:
    return {
        "sku": sku,
        "name": name,
        "brand": more.get("brand"),
        "description": more.get("description"),
        "attributes": json.dumps(more["attributes"]) if "attributes" in more else None,
    }


async def seeded(app) -> None:
    await feed(app, ATTRIBUTES, "attributes")
    job = await feed(
        app,
        as_csv(
            [
                product("CE-200", "Ceresit CM 11 tile glue", brand="Ceresit"),
                product("KN-100", "Knauf board 12.5 mm", brand="Knauf", description="For tiles"),
                product("PR-7", "Primer", description="Deep primer for glue work"),
                product(
                    "SE-1", "Sealant", attributes={"color": "anthracite"}, description="Joints"
                ),
            ]
        ),
    )
    assert job["state"] == "succeeded", job


async def test_words_match_name_brand_description_and_attribute_values_by_prefix(catalog):
    await seeded(catalog)
    async with client(catalog, BUYER) as http:
        assert await listed_skus(http, q="tile") == ["CE-200", "KN-100"]  # tiles: a prefix match
        assert await listed_skus(http, q="knauf") == ["KN-100"]  # brand
        assert await listed_skus(http, q="anthra") == ["SE-1"]  # an attribute value
        assert await listed_skus(http, q="glue ceres") == ["CE-200"]  # every word must match
        assert await listed_skus(http, q="KN-1") == ["KN-100"]  # a SKU fragment: trigram
        assert await listed_skus(http, q="nothing-like-it") == []


async def test_relevance_puts_name_matches_above_description_matches(catalog):
    await seeded(catalog)
    async with client(catalog, BUYER) as http:
        assert await listed_skus(http, q="glue") == ["CE-200", "PR-7"]
        assert await listed_skus(http, q="glue", sort="sku") == ["CE-200", "PR-7"]
        assert await listed_skus(http, q="tile") == ["CE-200", "KN-100"]


async def test_every_order_pages_with_a_cursor_without_gaps_or_repeats(catalog):
    await seeded(catalog)
    async with catalog.state.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE products SET updated_at = :at WHERE sku = 'SE-1'"),
            {"at": utcnow() - timedelta(days=1)},
        )
    expected = {
        "sku": ["CE-200", "KN-100", "PR-7", "SE-1"],
        "name": ["CE-200", "KN-100", "PR-7", "SE-1"],
        "-updated_at": None,  # the three fed together tie on updated_at: SKU breaks the tie
    }
    async with client(catalog, BUYER) as http:
        for sort, order in expected.items():
            seen, cursor = [], None
            while True:
                params = {"sort": sort, "limit": 1} | ({"cursor": cursor} if cursor else {})
                page = (await http.get("/products", params=params)).json()
                seen += [p["sku"] for p in page["items"]]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            if order is None:
                assert seen[-1] == "SE-1" and sorted(seen) == sorted(set(seen)) and len(seen) == 4
            else:
                assert seen == order, sort
        relevant = (await http.get("/products", params={"q": "glue", "limit": 1})).json()
        rest = (
            await http.get(
                "/products", params={"q": "glue", "limit": 1, "cursor": relevant["next_cursor"]}
            )
        ).json()
        wrong = await http.get(
            "/products", params={"sort": "name", "cursor": relevant["next_cursor"]}
        )
    assert [p["sku"] for p in relevant["items"] + rest["items"]] == ["CE-200", "PR-7"]
    assert rest["next_cursor"] is None
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "cursor"


async def fasteners(app) -> None:
    job = await feed(
        app,
        as_csv(
            [
                product("AB-1001", "Anchor bolt 1001"),  # "100": a word prefix and in the SKU
                product("XK-5100", "Anchor bolt M8"),  # "100" inside the SKU only
                product("ZZ-9", "Bolt 100 pack"),  # "100" a word of the name only
                product("QQ-7", "Screw 100"),  # no bolt
                product("TT-100", "Tile cross", description="For bolted joints"),
            ]
        ),
    )
    assert job["state"] == "succeeded", job


async def test_a_sku_fragment_matches_as_a_word_prefix_or_inside_sku_and_name_in_one_list(catalog):
    await fasteners(catalog)
    async with client(catalog, BUYER) as http:
        ranked = await listed_skus(http, q="bolt 100")
        assert sorted(ranked) == ["AB-1001", "TT-100", "XK-5100", "ZZ-9"]
        assert ranked[:2] == ["AB-1001", "ZZ-9"]  # both words in the name rank first
        assert await listed_skus(http, q="bolt 100", sort="sku") == sorted(ranked)
        # Every SKU-like word must match one way or the other, whichever way the first did.
        assert await listed_skus(http, q="XK-5 bolt 100") == ["XK-5100"]
        assert await listed_skus(http, q="100 1001") == ["AB-1001"]
        assert await listed_skus(http, q="100 screw") == ["QQ-7"]
        # Page by page, the two ways of matching give the same list once each.
        seen, cursor = [], None
        while True:
            params = {"q": "bolt 100", "limit": 1} | ({"cursor": cursor} if cursor else {})
            page = (await http.get("/products", params=params)).json()
            seen += [p["sku"] for p in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        facets = (await http.get("/products/facets", params={"q": "bolt 100"})).json()
    assert seen == ranked
    assert facets["total"] == 4


async def test_search_reaches_a_word_by_any_prefix_but_not_from_its_middle(catalog):
    await fasteners(catalog)
    async with client(catalog, BUYER) as http:
        for typed in ("b", "bo", "bol", "bolt", "BOLT"):
            assert sorted(await listed_skus(http, q=typed)) == [
                "AB-1001",
                "TT-100",
                "XK-5100",
                "ZZ-9",
            ]
        assert await listed_skus(http, q="bolte") == ["TT-100"]  # bolted, in the description
        assert await listed_skus(http, q="bolts") == []
        assert await listed_skus(http, q="olt") == []  # a word's middle is not a prefix
        assert await listed_skus(http, q="ancho b") == ["AB-1001", "XK-5100"]
        assert await listed_skus(http, q="bolt", status="discontinued") == []


async def test_words_with_a_category_subtree_brand_or_another_order_find_the_same(catalog):
    await feed(catalog, TREE, "categories")
    job = await feed(
        catalog,
        "sku,name,brand,category\n"
        "G-1,Tile glue,Ceresit,tile-glue\n"  # under adhesives
        "G-2,Glue gun,Bosch,tools\n"
        "G-3,Wood glue,Knauf,adhesives\n"
        "B-1,Board glued,Knauf,boards\n",
    )
    assert job["state"] == "succeeded", job
    async with client(catalog, BUYER) as http:
        assert await listed_skus(http, q="glu", category="adhesives") == ["G-1", "G-3"]
        assert await listed_skus(http, q="glu", category="building", brand="Knauf") == [
            "B-1",
            "G-3",
        ]
        assert await listed_skus(http, q="glu", sort="name") == ["B-1", "G-2", "G-1", "G-3"]
        assert await listed_skus(http, q="glu", sort="-updated_at", category="boards") == ["B-1"]
        assert await listed_skus(http, q="glu gun", category="adhesives") == []
