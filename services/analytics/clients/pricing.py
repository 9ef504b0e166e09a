"""Pricing: what clients would pay today."""

from __future__ import annotations

import asyncio
from typing import Any

import polars as pl

from shared.upstream import Upstreams

RESOLVE_MAX_LINES = 5_000
PRICING_CALLS_IN_FLIGHT = 8
PRICES_NOW_SCHEMA = {"client_id": pl.String, "sku": pl.String, "new_unit_price_minor": pl.Int64}


async def prices_now(upstreams: Upstreams, paid: pl.DataFrame) -> pl.DataFrame:
    """Each client's price today for the quantity it last bought (`paid`: client_id, currency,
    sku, quantity), one resolve call per client (and currency), a few calls in flight. A client
    pricing does not know (yet) has no prices."""
    gate = asyncio.Semaphore(PRICING_CALLS_IN_FLIGHT)

    async def one(client_id: str, currency: str, lines: pl.DataFrame) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, lines.height, RESOLVE_MAX_LINES):
            chunk = lines.slice(start, RESOLVE_MAX_LINES)
            async with gate:
                answer = await upstreams.call(
                    "pricing",
                    "POST",
                    "/prices/resolve",
                    idempotent=True,
                    json={
                        "client_id": client_id,
                        "currency": currency,
                        "lines": [
                            {"sku": s, "quantity": q}
                            for s, q in zip(chunk["sku"], chunk["quantity"], strict=True)
                        ],
                    },
                )
            if answer.status_code == 404:  # pricing does not know the client (yet)
                return []
            answer.raise_for_status()
            found += [
                {
                    "client_id": client_id,
                    "sku": line["sku"],
                    "new_unit_price_minor": line["unit_price_minor"],
                }
                for line in answer.json()["lines"]
            ]
        return found

    calls = [
        one(client_id, currency, lines)
        for (client_id, currency), lines in paid.group_by(
            "client_id", "currency", maintain_order=True
        )
    ]
    rows = [row for found in await asyncio.gather(*calls) for row in found]
    return pl.DataFrame(rows, schema=PRICES_NOW_SCHEMA, orient="row")
