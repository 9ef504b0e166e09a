"""The attributes ERP declared: what buyers may filter products by."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from services.catalog.api.products import READERS
from services.catalog.domain.attributes import AttributeType
from services.catalog.usecases import products as usecase
from shared.auth import allow
from shared.db import SessionDep
from shared.pagination import Page, PageDep

router = APIRouter(tags=["attributes"])
pages = APIRouter(tags=["attributes"])


class AttributeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    type: AttributeType
    label: str
    unit: str | None


@pages.get("/attributes", summary="Declared product attributes and their types, by name")
async def list_attributes(
    session: SessionDep, principal: allow(*READERS), page: PageDep
) -> Page[AttributeRead]:
    found = await usecase.declared_attributes(session, page)
    return Page.of(found, AttributeRead.model_validate)
