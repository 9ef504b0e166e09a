"""The merged OpenAPI document, rebuilt at most once a minute."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

FRESH_SECONDS = 60.0
# With a service missing, try again soon so the document heals once the service is back.
INCOMPLETE_FRESH_SECONDS = 5.0


class DocsCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._document: dict[str, Any] | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def get(self, build: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        async with self._lock:  # one rebuild at a time, however many callers ask
            if self._document is None or self.clock() >= self._expires:
                document = await build()
                fresh = (
                    INCOMPLETE_FRESH_SECONDS
                    if document.get("x-unavailable-services")
                    else FRESH_SECONDS
                )
                self._document, self._expires = document, self.clock() + fresh
            return self._document
