"""Token buckets, one per caller: `burst` requests at once, refilled at `per_minute`.

Held in memory by each gateway replica; the clock is injectable so a test can drive it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self,
        per_minute: int,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_callers: int = 100_000,
    ) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(max(burst, 1))
        self.clock = clock
        self.max_callers = max_callers
        self._buckets: dict[str, _Bucket] = {}

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, caller: str) -> int:
        """Takes one token: 0 if the request may go, else the whole seconds to wait (>= 1)."""
        if not self.enabled:
            return 0
        now = self.clock()
        bucket = self._buckets.get(caller)
        if bucket is None:
            if len(self._buckets) >= self.max_callers:
                self._forget_idle(now)
            bucket = self._buckets[caller] = _Bucket(self.capacity, now)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0
        return max(1, math.ceil((1 - bucket.tokens) / self.rate))

    def _forget_idle(self, now: float) -> None:
        """Drops callers whose bucket has refilled: forgetting them changes nothing."""
        full_after = self.capacity / self.rate
        self._buckets = {
            caller: b for caller, b in self._buckets.items() if now - b.updated < full_after
        }
