"""Checkout: the cart becomes an order (`usecases/checkout.py` runs the saga)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from services.orders.api.deps import CollaboratorsDep
from services.orders.api.schemas import (
    KEY_MISSING,
    IdempotencyKey,
    OrderRead,
    order_read,
    placed_order_json,
)
from services.orders.usecases import checkout as usecase
from services.orders.usecases.access import SHOPPERS
from shared.apiconventions import examples
from shared.auth import allow
from shared.fields import line, multiline

router = APIRouter(tags=["checkout"])


@examples({"comment": "Deliver to gate 3, mornings only", "need": "Tower B"})
class CheckoutBody(BaseModel):
    comment: multiline(2000) | None = None
    adds_to_order_id: uuid.UUID | None = Field(
        None, description="An earlier order of the company this one adds to (the same need)"
    )
    need: line(100) | None = Field(
        None, description="The need or project the order serves, e.g. Tower B"
    )


@router.post(
    "/carts/{cart_id}/checkout",
    status_code=201,
    summary="Place the cart as an order: prices, credit and stock are checked, stock reserved",
    response_model=OrderRead,
    responses={
        200: {
            "model": OrderRead,
            "description": "This Idempotency-Key placed an order before: it is returned",
        },
        409: {
            "description": "Out of stock (lines named), an empty cart, or this key's checkout "
            "still running"
        },
        422: {"description": "Unorderable or unpriced lines, below the minimum, or credit"},
        **KEY_MISSING,
        503: {"description": "Pricing, accounts or catalog cannot answer now"},
    },
)
async def checkout(
    cart_id: uuid.UUID,
    response: Response,
    collaborators: CollaboratorsDep,
    principal: allow(*SHOPPERS),
    idempotency_key: IdempotencyKey = None,
    body: CheckoutBody | None = None,
) -> Any:
    body = body or CheckoutBody()
    done = await usecase.check_out(
        collaborators,
        principal,
        cart_id,
        idempotency_key,
        comment=body.comment,
        adds_to_order_id=body.adds_to_order_id,
        need=body.need,
    )
    if not done.created:
        response.status_code = 200
        return order_read(done.view)
    # The order as written, serialised once: no second read, no model per line.
    return Response(placed_order_json(done.view), status_code=201, media_type="application/json")
