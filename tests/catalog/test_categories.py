"""The category tree: its feed, counts over subtrees, and product filters reaching descendants."""

from __future__ import annotations

from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.catalog.world import BUYER, CATEGORIES, HEADER, TREE, assert_rejected, feed


async def test_the_tree_counts_active_products_of_each_branch(catalog):
    assert (await feed(catalog, TREE, "categories"))["result"] == {"created": 5, "updated": 0}
    await feed(
        catalog,
        HEADER
        + "CE-200,Ceresit CM 11,Ceresit,tile-glue,,,,,\n"
        + "CE-300,Ceresit CM 17,Ceresit,tile-glue,,,,,\n"
        + "KN-100,Knauf board,Knauf,boards,,,,,\n"
        + "OLD-1,Old glue,,adhesives,,,,discontinued,\n",
    )
    async with client(catalog, BUYER) as http:
        tree = (await http.get("/categories")).json()
    assert [(n["code"], n["product_count"]) for n in tree] == [("building", 3), ("garden", 0)]
    building = tree[0]
    assert [(n["code"], n["product_count"]) for n in building["children"]] == [
        ("adhesives", 2),
        ("boards", 1),
    ]
    assert building["children"][0]["children"][0]["code"] == "tile-glue"


async def test_filtering_by_a_category_includes_its_descendants(catalog):
    await feed(catalog, TREE, "categories")
    await feed(
        catalog,
        HEADER
        + "CE-200,Ceresit CM 11,Ceresit,tile-glue,,,,,\n"
        + "KN-100,Knauf board,Knauf,boards,,,,,\n"
        + "GA-1,Hose,,garden,,,,,\n"
        + "X-1,Loose,,no-such-category,,,,,\n",
    )
    async with client(catalog, BUYER) as http:

        async def skus(category: str) -> list[str]:
            answer = await http.get("/products", params={"category": category})
            return [p["sku"] for p in answer.json()["items"]]

        assert await skus("building") == ["CE-200", "KN-100"]
        assert await skus("adhesives") == ["CE-200"]
        assert await skus("garden") == ["GA-1"]
        assert await skus("no-such-category") == ["X-1"]  # a code without a tree node still matches


async def test_unknown_parents_and_cycles_are_rejected_and_nothing_changes(catalog):
    await feed(catalog, TREE, "categories")
    job = await feed(
        catalog,
        CATEGORIES
        + "building,Building,tile-glue\n"  # tile-glue is under building: a cycle
        + "new,New,ghost\n"
        + "self,Self,self\n",
        "categories",
    )
    await assert_rejected(
        catalog,
        job,
        "1,parent,makes a cycle",
        "2,parent,is not a known category",
        "3,parent,cannot be the category itself",
    )
    async with client(catalog, BUYER) as http:
        tree = (await http.get("/categories")).json()
    assert [n["code"] for n in tree] == ["building", "garden"]


async def test_a_moved_category_takes_its_products_along(catalog):
    await feed(catalog, TREE, "categories")
    await feed(catalog, HEADER + "KN-100,Knauf board,Knauf,boards,,,,,\n")
    moved = await feed(catalog, CATEGORIES + "boards,Boards,garden\n", "categories")
    assert moved["result"] == {"created": 0, "updated": 1}
    async with client(catalog, BUYER) as http:
        garden = (await http.get("/products", params={"category": "garden"})).json()
    assert [p["sku"] for p in garden["items"]] == ["KN-100"]


async def test_roles(catalog):
    for headers in (
        as_role(Role.PARTNER, kind="api_key", subject="market"),
        as_role(Role.INTEGRATOR, kind="api_key", subject="erp"),
    ):
        async with client(catalog, headers) as http:
            assert (await http.get("/categories")).status_code == 403
    async with client(catalog, {**BUYER, "Content-Type": "text/csv"}) as http:
        assert (await http.post("/feeds/categories", content=TREE)).status_code == 403
