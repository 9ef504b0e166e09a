"""The category tree buyers browse, with how many active products each branch holds."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.catalog.api.products import READERS
from services.catalog.store import categories as store
from shared.auth import allow
from shared.db import SessionDep

router = APIRouter(tags=["categories"])


class CategoryNode(BaseModel):
    code: str
    name: str
    parent_code: str | None
    product_count: int = Field(description="Active products in this category and below it")
    children: list[CategoryNode]


@router.get("/categories", summary="The category tree with product counts")
async def category_tree(session: SessionDep, principal: allow(*READERS)) -> list[CategoryNode]:
    rows = await store.tree_rows(session)
    nodes = {
        r.code: CategoryNode(
            code=r.code,
            name=r.name,
            parent_code=r.parent_code,
            product_count=r.product_count,
            children=[],
        )
        for r in rows
    }
    roots: list[CategoryNode] = []
    for node in nodes.values():  # rows come in name order, so children do too
        parent = nodes.get(node.parent_code or "")
        (parent.children if parent else roots).append(node)
    return roots
