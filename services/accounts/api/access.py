"""What the routers add to the use cases' access rules: the ETag header of a company's version.
The rules themselves (who reaches which company, If-Match) are in `usecases/access.py`."""

from __future__ import annotations

from fastapi import Response

# finance.py takes these from here; the lead moves it onto the kernel's attachments.
from services.accounts.usecases.access import PEOPLE, etag, visible_company

__all__ = ["PEOPLE", "set_etag", "visible_company"]


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)
