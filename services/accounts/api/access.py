"""What the routers add to the use cases' access rules: the ETag header of a company's version.
The rules themselves (who reaches which company, If-Match) are in `usecases/access.py`."""

from __future__ import annotations

from fastapi import Response

from services.accounts.usecases.access import etag


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)
