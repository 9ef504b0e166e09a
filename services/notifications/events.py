"""What notifications consumes and what it makes of each event.

Every event of every topic goes to one use case, `usecases/fan_out.py`, in the consumer's
transaction with the inbox row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifications.settings import Settings
from services.notifications.store.messages import RuleCache
from services.notifications.usecases.fan_out import Batch, fan_out
from shared.contracts import all_topics
from shared.events.consumer import EventConsumer, Handlers, Outcome
from shared.events.envelope import CloudEvent, contract_for
from shared.events.kafka import Publisher

# analytics publishes client.segment_changed.v1 and client.churn_risk_raised.v1 here; the rules
# read them as plain payloads, so they work before (and without importing) its contract module.
ANALYTICS_TOPIC = "analytics.client"
CONSUMER_NAME = "notifications.notifications"
FETCH_MAX_WAIT_MS = 50

# The kernel's per-contract consumers are not used: one generic consumer takes every event.
CONSUMERS: dict[str, Handlers] = {}


def topics() -> set[str]:
    return all_topics() | {ANALYTICS_TOPIC}


def _wake(app: Any, info: dict[str, Any]) -> None:
    if info.get("webhook"):
        app.state.wake_webhooks.set()
    if info.get("message"):
        app.state.wake_messages.set()


class NotificationConsumer(EventConsumer):
    """The kernel's consumer (inbox, retries, dead letters, offsets after commit) dispatching
    every event type of its topics to `fan_out`, contract or not."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        publisher: Publisher,
        settings: Settings,
        *,
        on_applied: Callable[[dict[str, Any]], None] | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
        rule_cache: RuleCache | None = None,
    ) -> None:
        super().__init__(
            CONSUMER_NAME + settings.consumer_group_suffix,
            {},
            sessionmaker,
            publisher,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            on_outcome=on_outcome,
        )
        self.topics = sorted(topics())
        self.settings = settings
        self.on_applied = on_applied
        self.rule_cache = rule_cache

    fetch_max_wait_ms = FETCH_MAX_WAIT_MS

    def handles(self, event_type: str) -> bool:
        return True  # rules may be written on any event of its topics

    def parse(self, envelope: CloudEvent) -> Any:
        contract = contract_for(envelope.type)
        if contract is not None:  # a known event must be well formed, or it is dead-lettered
            contract.model_validate(envelope.data)
        return envelope.data

    async def handle(self, session: AsyncSession, envelope: CloudEvent, event: Any) -> None:
        batch = session.info.setdefault("batch", Batch())
        await fan_out(
            session,
            self.settings,
            envelope.id,
            envelope.type,
            event,
            rule_cache=self.rule_cache,
            batch=batch,
        )

    async def before_commit(self, session: AsyncSession) -> None:
        if "batch" in session.info:
            await session.info["batch"].flush(session)

    def after_commit(self, info: dict[str, Any]) -> None:
        if self.on_applied:
            self.on_applied(info)


async def run_consumer(app: Any) -> None:
    consumer = NotificationConsumer(
        app.state.sessionmaker,
        app.state.publisher,
        app.state.settings,
        on_applied=lambda info: _wake(app, info),
        on_outcome=lambda outcome: app.state.outcomes.update([outcome.value]),
        rule_cache=app.state.rule_cache,
    )
    app.state.consumer = consumer
    await consumer.run(ready=app.state.consumer_ready)
