"""What a flow that spans several transactions or services is given: the database, the
service's settings and its calls to other services. Passed in, so a test builds its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.orders.settings import Settings
from shared.upstream import Upstreams


@dataclass(frozen=True)
class Collaborators:
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    upstreams: Upstreams

    @classmethod
    def of(cls, app: Any) -> Collaborators:
        """The running application's (its lifespan built them)."""
        state = app.state
        return cls(state.sessionmaker, state.settings, state.upstreams)
