"""The merged OpenAPI documents (one per API version), each rebuilt at most once a minute."""

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
        self._documents: dict[int, tuple[dict[str, Any], float]] = {}
        self._lock = asyncio.Lock()

    async def get(
        self, version: int, build: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        async with self._lock:  # one rebuild at a time, however many callers ask
            document, expires = self._documents.get(version, ({}, 0.0))
            if not document or self.clock() >= expires:
                document = await build()
                fresh = (
                    INCOMPLETE_FRESH_SECONDS
                    if document.get("x-unavailable-services")
                    else FRESH_SECONDS
                )
                self._documents[version] = (document, self.clock() + fresh)
            return document
