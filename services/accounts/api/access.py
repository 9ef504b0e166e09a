"""What the routers add to the use cases' access rules: the ETag header of a row's version
(a company's, a contact's) and the If-Match header that names it. The rules themselves (who
reaches which company, If-Match) are in `usecases/access.py`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Response

from services.accounts.usecases.access import etag

IfMatch = Annotated[str | None, Header(description="The ETag you read")]
IF_MATCH_RESPONSES: dict[int | str, dict[str, str]] = {
    412: {"description": "It changed since you read it"},
    428: {"description": "If-Match missing"},
}


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)
