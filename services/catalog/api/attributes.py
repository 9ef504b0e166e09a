"""The attributes ERP declared: what buyers may filter products by."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from services.catalog.api.products import READERS
from services.catalog.domain.attributes import AttributeType
from services.catalog.usecases import products as usecase
from shared.auth import allow
from shared.db import SessionDep

router = APIRouter(tags=["attributes"])


class AttributeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    type: AttributeType
    label: str
    unit: str | None


@router.get("/attributes", summary="Declared product attributes and their types")
async def list_attributes(session: SessionDep, principal: allow(*READERS)) -> list[AttributeRead]:
    return [AttributeRead.model_validate(d) for d in await usecase.declared_attributes(session)]
