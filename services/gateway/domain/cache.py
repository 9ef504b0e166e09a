"""A small expiring map (verified API keys), with an injectable clock for tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    def __init__(
        self,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_items: int = 10_000,
    ) -> None:
        self.ttl = ttl_seconds
        self.clock = clock
        self.max_items = max_items
        self._items: dict[str, tuple[float, V]] = {}

    def get(self, key: str) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if self.clock() >= expires:
            del self._items[key]
            return None
        return value

    def put(self, key: str, value: V) -> None:
        if self.ttl <= 0:
            return
        now = self.clock()
        if len(self._items) >= self.max_items:
            self._items = {k: v for k, v in self._items.items() if v[0] > now}
            if len(self._items) >= self.max_items:
                self._items.pop(next(iter(self._items)))
        self._items[key] = (now + self.ttl, value)

    def clear(self) -> None:
        self._items.clear()
