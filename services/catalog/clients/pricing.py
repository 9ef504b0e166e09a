"""What catalog asks pricing now, over HTTP: a price list's prices, a client's prices."""

from __future__ import annotations

import io
import uuid
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import polars as pl

from shared.auth import Principal
from shared.problems import BadGateway, Conflict, ProblemError
from shared.upstream import Upstreams

LIST_PRICE_SCHEMA = {
    "sku": pl.Utf8,
    "min_qty": pl.Utf8,
    "price_minor": pl.Int64,
    "currency": pl.Utf8,
}


def _unexpected(response: Any) -> ProblemError:
    return BadGateway(f"pricing answered {response.status_code}: {response.text[:300]}")


async def price_list_exists(upstreams: Upstreams, principal: Principal, code: str) -> bool:
    """Whether pricing knows the list, asked as the person setting a partner up."""
    response = await upstreams.call(
        "pricing", "GET", f"/price-lists/{quote(code, safe='')}", as_principal=principal
    )
    if response.status_code == 404:
        return False
    if response.status_code != 200:
        raise _unexpected(response)
    return True


async def price_list_prices(upstreams: Upstreams, code: str, day: date) -> pl.DataFrame:
    """Every SKU and tier of a list on `day` (sku, min_qty as text, price_minor, currency), by
    SKU and tier: one call, as the catalog service."""
    response = await upstreams.call(
        "pricing",
        "GET",
        f"/price-lists/{quote(code, safe='')}/prices",
        params={"date": day.isoformat()},
    )
    if response.status_code == 404:
        raise Conflict(
            f"The price list {code} this feed is priced from no longer exists in pricing; "
            "an admin must set another for the partner.",
            slug="price-list-missing",
        )
    if response.status_code != 200:
        raise _unexpected(response)
    return pl.read_csv(io.BytesIO(response.content), schema=LIST_PRICE_SCHEMA)


async def client_prices(
    upstreams: Upstreams,
    principal: Principal,
    company_id: uuid.UUID,
    lines: list[tuple[str, Decimal]],
) -> dict[str, Any] | None:
    """The client's price of each (SKU, quantity): one resolve call, made as the caller, so
    pricing checks again that a buyer acts for the company. pricing's answer
    ({"currency", "lines": [...]}), or None when it knows no such client (yet)."""
    response = await upstreams.call(
        "pricing",
        "POST",
        "/prices/resolve",
        json={
            "client_id": str(company_id),
            "lines": [{"sku": sku, "quantity": str(q)} for sku, q in lines],
        },
        idempotent=True,
        as_principal=principal,
    )
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise _unexpected(response)
    return response.json()
