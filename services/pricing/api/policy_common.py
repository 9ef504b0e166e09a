"""What the commercial-policy routers share: who reads and writes, path parameters, the
documented problems."""

from __future__ import annotations

import uuid
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
# A promotion's, a ladder's or a segment rule's code in the path.
CodePath = Annotated[Code, Path()]
SkuPath = Annotated[Sku, Path(description="SKU code")]
CURRENCY = r"^[A-Z]{3}$"


def problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: problem("Not authenticated"),
    403: problem("Only admins and sales managers may read commercial policy"),
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: problem("Not authenticated"),
    403: problem("Only admins may change commercial policy"),
    422: problem("The body is invalid or names something unknown; `errors` says which field"),
}
NOT_FOUND = {404: problem("Not found")}
CONFLICT = {409: problem("Conflicts with the current state")}
# Reads and writes of one thing by its path.
READ_ONE_ERRORS = {**READ_ERRORS, **NOT_FOUND}
WRITE_ONE_ERRORS = {**WRITE_ERRORS, **NOT_FOUND}
CREATE_ERRORS = {**WRITE_ERRORS, **CONFLICT}


def unique(codes: list[str]) -> list[str]:
    return list(dict.fromkeys(codes))
