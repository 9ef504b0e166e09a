"""The accounts service application."""

from fastapi import FastAPI

from services.accounts.events import CONSUMERS
from services.accounts.settings import Settings
from shared.app import ServiceSpec, build_app

SPEC = ServiceSpec(
    name="accounts",
    title="Accounts API",
    description="Companies (clients), their buyers and roles, client groups, credit standing, receivables, the client card and knowledge goals, login and API keys.",
    routers=[],
    consumers=CONSUMERS,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(SPEC, settings or Settings())
