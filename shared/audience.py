"""What a caller may read of an answer: the seller's staff all of it, a client's people only
what the client's model of it declares.

An endpoint that shows the seller's internals (cost, margin, floor, internal labels) has two
response models: the client's, and the staff's that extends it with the internal fields. The
client's model is the allowlist: a field added to the staff's stays internal until someone
adds it to the client's. Both are documented (`response_model=Staff | Client`).
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel

from shared.auth import Principal


def for_caller(principal: Principal, answer: BaseModel, client_model: type[BaseModel]) -> Response:
    """`answer` (the staff's model) as JSON, cut to `client_model` unless the caller is staff."""
    if not principal.is_staff:
        answer = client_model.model_validate(answer.model_dump())
    return Response(answer.model_dump_json().encode(), media_type="application/json")


def client_rows(
    principal: Principal, rows: list[dict[str, Any]], client_model: type[BaseModel]
) -> list[dict[str, Any]]:
    """Plain row dicts (a hot path that builds no models) cut to the fields of `client_model`
    unless the caller is staff."""
    if principal.is_staff:
        return rows
    keep = client_model.model_fields.keys()
    return [{k: v for k, v in row.items() if k in keep} for row in rows]
