"""The notifications service application."""

from fastapi import FastAPI

from services.notifications.events import CONSUMERS
from services.notifications.settings import Settings
from shared.app import ServiceSpec, build_app

SPEC = ServiceSpec(
    name="notifications",
    title="Notifications API",
    description="Rules that turn events into messages; templates; email, signed webhooks and in-app inbox; preferences; delivery log.",
    routers=[],
    consumers=CONSUMERS,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(SPEC, settings or Settings())
