"""The notifications service application."""

import asyncio
from collections import Counter

from fastapi import FastAPI

from services.notifications.api import inbox, preferences, public, rules, webhooks
from services.notifications.events import CONSUMER_NAME, CONSUMERS, run_consumer, topics
from services.notifications.settings import Settings
from services.notifications.store.messages import RuleCache
from services.notifications.workers import digest_worker, email_worker, webhook_worker
from shared.app import ServiceSpec, build_app

SPEC = ServiceSpec(
    name="notifications",
    title="Notifications API",
    description="Rules that turn events into messages; templates; email, signed webhooks and in-app inbox; preferences; delivery log.",
    tags={
        "inbox": "A person's in-app messages: list, read, mark as read",
        "preferences": "What a person wants to hear about, by which channel, and quiet hours",
        "rules": "Rules that turn events into messages for the right people",
        "templates": "The texts of messages, per event and language",
        "webhooks": "Signed HTTP callbacks to a company's systems, with retries and a delivery log",
        "links": "Links in messages that need no login: surveys, unsubscribing",
    },
    routers=[inbox.router, preferences.router, rules.router, webhooks.router, public.router],
    pages=[rules.pages, webhooks.pages],
    consumers=CONSUMERS,
    workers=[run_consumer, email_worker, webhook_worker, digest_worker],
)
# Its one consumer group (not the kernel's per-contract ones) and what it reads.
CONSUMER_GROUPS = {CONSUMER_NAME: topics()}


def create_app(settings: Settings | None = None) -> FastAPI:
    app = build_app(SPEC, settings or Settings())
    app.state.wake_messages = asyncio.Event()  # the consumer committed messages to send
    app.state.wake_webhooks = asyncio.Event()  # ... or webhook calls to make
    app.state.consumer_ready = asyncio.Event()  # set once the consumer joined its group
    app.state.rule_cache = RuleCache(app.state.settings.rules_cache_seconds)
    app.state.outcomes = Counter()  # consumer outcomes: applied, duplicate, dead_lettered
    return app
