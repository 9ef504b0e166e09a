"""What the commercial-policy routers share: who reads and writes, path parameters, the
documented problems, and percents kept as basis points."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Path

from shared.auth import Role
from shared.fields import Code, Sku
from shared.pagination import PageParams, page_params
from shared.problems import Problem

READERS = (Role.ADMIN, Role.PRICING_MANAGER, Role.HEAD_OF_SALES, Role.SALES_MANAGER)
WRITERS = (Role.ADMIN,)
Pages = Annotated[PageParams, Depends(page_params)]
CompanyId = Annotated[uuid.UUID, Path(description="The client's company id (accounts)")]
ListCode = Annotated[Code, Path(description="Price list code")]
SkuPath = Annotated[Sku, Path(description="SKU code")]
CURRENCY = r"^[A-Z]{3}$"
CENT = Decimal("0.01")


def _problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _problem("Not authenticated"),
    403: _problem("Only admins and sales managers may read commercial policy"),
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _problem("Not authenticated"),
    403: _problem("Only admins may change commercial policy"),
    422: _problem("The body is invalid or names something unknown; `errors` says which field"),
}
NOT_FOUND = {404: _problem("Not found")}
CONFLICT = {409: _problem("Conflicts with the current state")}


def _percent(basis_points: int) -> Decimal:
    return (Decimal(basis_points) / 100).quantize(CENT)


def _basis_points(percent: Decimal) -> int:
    return int(percent * 100)


def _unique(codes: list[str]) -> list[str]:
    return list(dict.fromkeys(codes))
