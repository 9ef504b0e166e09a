"""What the routers hand to the use cases besides the request's session: the service's
settings and its calls to other services (the running application's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.analytics.settings import Settings
from shared.pagination import Cursor, PageParams
from shared.upstream import Upstreams


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _upstreams(request: Request) -> Upstreams:
    return request.app.state.upstreams


SettingsDep = Annotated[Settings, Depends(_settings)]
UpstreamsDep = Annotated[Upstreams, Depends(_upstreams)]


async def _report_page(cursor: Cursor = None) -> PageParams:
    return PageParams(cursor=cursor)  # of the size `sized` gives it


def sized(page: PageParams, limit: int) -> PageParams:
    """A version-2 page of `limit` items; version 1's every item stays every item."""
    return page if page.limit is None else PageParams(cursor=page.cursor, limit=limit)


# The page of a report that had its own `limit` in version 1, which keeps it: that `limit`
# sizes its pages too (`sized`), so the two cannot differ.
ReportPageDep = Annotated[PageParams, Depends(_report_page)]
