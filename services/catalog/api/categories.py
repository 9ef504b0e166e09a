"""The category tree buyers browse, with how many active products each branch holds."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.catalog.api.products import READERS
from services.catalog.usecases import categories as usecase
from shared.auth import allow
from shared.db import SessionDep
from shared.pagination import Page, PageDep

router = APIRouter(tags=["categories"])
pages = APIRouter(tags=["categories"])


class CategoryNode(BaseModel):
    code: str
    name: str
    parent_code: str | None
    product_count: int = Field(description="Active products in this category and below it")
    children: list[CategoryNode]


@pages.get(
    "/categories",
    summary="The category tree with product counts, a page of top-level categories at a time",
)
async def category_tree(
    session: SessionDep, principal: allow(*READERS), page: PageDep
) -> Page[CategoryNode]:
    return Page.of(await usecase.category_tree(session, page), CategoryNode.model_validate)
