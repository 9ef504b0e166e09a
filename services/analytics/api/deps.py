"""What the routers hand to the use cases besides the request's session: the service's
settings and its calls to other services (the running application's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.analytics.settings import Settings
from shared.upstream import Upstreams


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _upstreams(request: Request) -> Upstreams:
    return request.app.state.upstreams


SettingsDep = Annotated[Settings, Depends(_settings)]
UpstreamsDep = Annotated[Upstreams, Depends(_upstreams)]
