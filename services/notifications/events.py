"""Events the notifications service consumes, by consumer group: plain handlers a test can call."""

from shared.events.consumer import Handler
from shared.events.envelope import EventContract

CONSUMERS: dict[str, dict[type[EventContract], Handler]] = {}
