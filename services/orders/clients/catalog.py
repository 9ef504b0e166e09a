"""Catalog: stock held for a checkout (reserve, confirm, hold again, give back) and
quantities converted to the base unit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from services.orders.clients import unexpected
from shared.auth import Principal
from shared.problems import Conflict, FieldError, ProblemError
from shared.upstream import Upstreams

RESERVATION_TTL_MINUTES = 15


@dataclass(frozen=True)
class HeldStock:
    """A reservation catalog made: its id and what each warehouse holds of each SKU."""

    id: uuid.UUID
    lines: list[tuple[str, str, Decimal]]  # sku, warehouse, quantity


async def reserve_stock(
    upstreams: Upstreams,
    reference: uuid.UUID,
    lines: list[tuple[str, Decimal]],
    preferred_warehouse: str | None = None,
    *,
    renew: bool = False,
) -> HeldStock:
    """Hold stock for every line (or none), from the client's preferred warehouse first and
    split over others when need be; 409 with the short lines, as catalog named them. `renew`:
    the reference's reservation ended (expired, released): hold its lines again."""
    body: dict[str, Any] = {
        "reference": str(reference),
        "ttl_minutes": RESERVATION_TTL_MINUTES,
        "preferred_warehouse": preferred_warehouse,
        "lines": [{"sku": sku, "quantity": str(q)} for sku, q in lines],
    }
    if renew:
        body["renew"] = True
    # Idempotent by reference: a retry returns the reservation the first attempt made.
    response = await upstreams.call("catalog", "POST", "/reservations", json=body, idempotent=True)
    if response.status_code == 409:
        problem = response.json()
        raise Conflict(
            problem.get("detail", "Not enough stock."),
            slug="out-of-stock",
            errors=[FieldError(**e) for e in problem.get("errors", [])],
        )
    if response.status_code not in (200, 201):
        raise unexpected("catalog", response)
    held = orjson.loads(response.content)
    return HeldStock(
        uuid.UUID(held["id"]),
        [(x["sku"], x["warehouse"], Decimal(x["quantity"])) for x in held["lines"]],
    )


async def confirm_reservation(upstreams: Upstreams, reservation_id: uuid.UUID) -> bool:
    """False when the reservation is gone (expired or released) and cannot be confirmed."""
    response = await upstreams.call(
        "catalog", "POST", f"/reservations/{reservation_id}/confirm", idempotent=True
    )
    if response.status_code in (404, 409):
        return False
    if response.status_code != 200:
        raise unexpected("catalog", response)
    return True


async def keep_stock(
    upstreams: Upstreams,
    reference: uuid.UUID,
    lines: list[tuple[str, Decimal]],
    preferred_warehouse: str | None,
    held: HeldStock,
) -> tuple[HeldStock, bool]:
    """The stock `held` for `reference`, confirmed: an order is placed only on stock catalog
    holds for it. Given back meanwhile (it expired, or was released), it is held again
    (`hold_again`). False: catalog did not answer, the stock is not confirmed yet."""
    try:
        if await confirm_reservation(upstreams, held.id):
            return held, True
    except ProblemError:
        return held, False
    return await hold_again(upstreams, reference, lines, preferred_warehouse)


async def hold_again(
    upstreams: Upstreams,
    reference: uuid.UUID,
    lines: list[tuple[str, Decimal]],
    preferred_warehouse: str | None,
) -> tuple[HeldStock, bool]:
    """The lines of `reference`'s reservation, which catalog gave back, held again under the
    same id (maybe from other warehouses: the HeldStock says) and confirmed; a 409
    `out-of-stock` naming the lines no longer there. False: not confirmed yet."""
    try:
        held = await reserve_stock(upstreams, reference, lines, preferred_warehouse, renew=True)
    except Conflict as short:
        raise Conflict(
            "The stock held for this order was given back before the order was placed, and "
            "some lines are no longer in stock; nothing was ordered.",
            slug="out-of-stock",
            errors=short.errors,
        ) from short
    try:
        return held, await confirm_reservation(upstreams, held.id)
    except ProblemError:
        return held, False


async def release_by_reference(upstreams: Upstreams, reference: uuid.UUID) -> None:
    """Give back whatever stock catalog holds under this reference (none is fine)."""
    response = await upstreams.call(
        "catalog", "DELETE", "/reservations", params={"reference": str(reference)}
    )
    if response.status_code not in (200, 204):
        raise unexpected("catalog", response)


async def convert_quantities(
    upstreams: Upstreams, principal: Principal | None, lines: list[tuple[str, str, str]]
) -> list[dict[str, Any]]:
    """(sku, unit, quantity) lines in their base unit, in one call to catalog: a verdict per
    line (`ok`, `base_quantity`, or `problem` and `message`)."""
    response = await upstreams.call(
        "catalog",
        "POST",
        "/products/quantities:convert",
        json={"lines": [{"sku": s, "unit": u, "quantity": q} for s, u, q in lines]},
        idempotent=True,
        as_principal=principal,
    )
    if response.status_code != 200:
        raise unexpected("catalog", response)
    return list(response.json()["lines"])
