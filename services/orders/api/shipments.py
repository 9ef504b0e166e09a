"""Shipments from ERP: an order leaves in parts; the order follows (shipped at the first part,
delivered when all has left and arrived, with OTIF over the whole)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.orders.api.schemas import (
    BATCH_REFUSED,
    ERP,
    MAX_BATCH,
    DeliveredQuantity,
    UpdatesResult,
    updates_result,
)
from services.orders.usecases import shipments as usecase
from shared.apiconventions import examples
from shared.auth import allow
from shared.batches import Mode
from shared.db import SessionDep
from shared.fields import Code, Reference, Timestamp

router = APIRouter(prefix="/erp", tags=["ERP"])


class ShipmentUpdate(BaseModel):
    order: Reference = Field(description="Our number (SO-...) or ERP's own number")
    shipment: Reference = Field(description="ERP's shipment number")
    status: Literal["shipped", "delivered"]
    at: Timestamp
    warehouse: Code | None = None
    kind: Literal["stock", "made_to_order"] = "stock"
    lines: list[DeliveredQuantity] | None = Field(
        None,
        description="shipped: what the shipment carries (omitted: all left to ship); "
        "delivered: what arrived (omitted: all it carried)",
    )


@examples(
    {
        "shipments": [
            {
                "order": "SO-00000123",
                "shipment": "DN-2026-5531",
                "status": "shipped",
                "at": "2026-12-08T07:40:00Z",
                "warehouse": "MAIN",
                "kind": "stock",
                "lines": [{"sku": "KN-100", "quantity": "20"}, {"sku": "CE-200", "quantity": "30"}],
            },
            {
                "order": "SO-00000123",
                "shipment": "DN-2026-5531",
                "status": "delivered",
                "at": "2026-12-08T12:05:00Z",
            },
        ],
        "mode": "all_or_nothing",
    }
)
class ShipmentUpdates(BaseModel):
    shipments: list[ShipmentUpdate] = Field(min_length=1, max_length=MAX_BATCH)
    mode: Mode = "all_or_nothing"


@router.post(
    "/shipments",
    summary="ERP reports shipments in bulk: a part of an order left (with its warehouse and "
    "lines) or arrived; the order is shipped at its first part and delivered when all arrived",
    responses=BATCH_REFUSED,
)
async def post_shipments(
    body: ShipmentUpdates, session: SessionDep, principal: allow(*ERP)
) -> UpdatesResult:
    batch = await usecase.apply_shipments(session, principal, body.shipments, body.mode)
    return updates_result(batch)
