"""What a flow is given besides the request's session: the service's settings and the
database, for the flows that need a transaction of their own (counting a password attempt).
Passed in, so a test builds its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.accounts.settings import Settings


@dataclass(frozen=True)
class Collaborators:
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings

    @classmethod
    def of(cls, app: Any) -> Collaborators:
        """The running application's (its lifespan built them)."""
        return cls(app.state.sessionmaker, app.state.settings)
