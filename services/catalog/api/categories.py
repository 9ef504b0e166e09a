"""The category tree buyers browse, with how many active products each branch holds."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.catalog.api.products import READERS
from services.catalog.usecases import categories as usecase
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
    return [CategoryNode.model_validate(node) for node in await usecase.category_tree(session)]
