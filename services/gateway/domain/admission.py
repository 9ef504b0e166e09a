"""Admission control: how many requests the gateway lets wait on one service at once.

Past a service's capacity, a request admitted anyway only queues for a database connection
until the service's pool times out (10 s) and the caller gets a late 503 anyway, while every
request behind it slows down too. Refused at once instead, the excess costs the gateway almost
nothing and the caller learns within milliseconds to come back (`Retry-After`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class InFlight:
    limit: int  # per service; 0: no limit
    _now: Counter[str] = field(default_factory=Counter)

    def enter(self, service: str) -> Slot | None:
        """A place for one more request to `service`, or None when it already has `limit`."""
        if self.limit and self._now[service] >= self.limit:
            return None
        self._now[service] += 1
        return Slot(self, service)

    def _leave(self, service: str) -> None:
        self._now[service] -= 1

    def of(self, service: str) -> int:
        return self._now[service]


class Slot:
    """One admitted request's place; given back once, however many ways its answer ends."""

    def __init__(self, in_flight: InFlight, service: str) -> None:
        self._in_flight: InFlight | None = in_flight
        self._service = service

    def release(self) -> None:
        if self._in_flight is not None:
            self._in_flight._leave(self._service)
            self._in_flight = None
