"""The category tree buyers browse, each branch with the active products it holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.store import categories as store
from shared.pagination import PageParams, page_of


async def category_tree(
    session: AsyncSession, page: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    """The top-level categories, each with its `children` below it, by name at every level;
    a category whose parent is unknown is shown at the top. Paged by top-level category."""
    nodes = {
        r.code: {
            "code": r.code,
            "name": r.name,
            "parent_code": r.parent_code,
            "product_count": r.product_count,
            "children": [],
        }
        for r in await store.tree_rows(session)
    }
    roots: list[dict[str, Any]] = []
    for node in nodes.values():  # rows come in name order, so children do too
        parent = nodes.get(node["parent_code"] or "")
        (parent["children"] if parent else roots).append(node)
    return page_of(roots, lambda node: (node["name"], node["code"]), page)
