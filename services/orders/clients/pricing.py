"""Pricing: the cart's lines priced for the client in one call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import orjson

from services.orders.clients import unexpected
from shared.auth import Principal
from shared.upstream import Upstreams


@dataclass(frozen=True)
class PricedLine:
    sku: str
    quantity: Decimal
    unit_price_minor: int | None
    list_price_minor: int | None
    rule: str
    next_tier: dict[str, Any] | None
    floor_minor: int | None = None
    base_price_minor: int | None = None  # the base list's price, whatever the client's terms


@dataclass(frozen=True)
class PricedCart:
    currency: str
    priced_on: date
    lines: list[PricedLine]
    price_version: int | None = None  # pricing's price version behind these prices


async def price_cart(
    upstreams: Upstreams,
    principal: Principal | None,
    company_id: uuid.UUID,
    lines: list[tuple[str, Decimal]],
    currency: str | None = None,
) -> PricedCart:
    """Every line priced for the client in one call to pricing."""
    body: dict[str, Any] = {
        "client_id": str(company_id),
        "lines": [{"sku": sku, "quantity": str(q)} for sku, q in lines],
    }
    if currency:
        body["currency"] = currency
    response = await upstreams.call(
        "pricing", "POST", "/prices/resolve", json=body, idempotent=True, as_principal=principal
    )
    if response.status_code != 200:
        raise unexpected("pricing", response)
    data = orjson.loads(response.content)
    return PricedCart(
        currency=data["currency"],
        priced_on=date.fromisoformat(data["date"]),
        price_version=data.get("price_version"),
        lines=[
            PricedLine(
                sku=x["sku"],
                quantity=Decimal(x["quantity"]),
                unit_price_minor=x["unit_price_minor"],
                list_price_minor=x["list_price_minor"],
                rule=x["rule"],
                next_tier=x["next_tier"],
                floor_minor=x.get("floor_minor"),
                base_price_minor=x.get("base_price_minor"),
            )
            for x in data["lines"]
        ],
    )
