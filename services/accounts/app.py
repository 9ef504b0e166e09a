"""The accounts service application."""

from fastapi import FastAPI

from services.accounts.api import companies, contacts, finance, people, pipeline, revocations
from services.accounts.api.feeds import SPECS
from services.accounts.events import CONSUMERS
from services.accounts.settings import Settings
from services.accounts.usecases.people import ensure_admin
from services.accounts.workers import WORKERS
from shared.app import ServiceSpec, build_app
from shared.feeds import feed_router


async def bootstrap_admin(app: FastAPI) -> None:
    """The first admin, so a fresh install can log in; does nothing once the user exists."""
    settings: Settings = app.state.settings
    if not settings.bootstrap_admin_email:
        return
    password = settings.bootstrap_admin_password.get_secret_value()
    async with app.state.sessionmaker() as session, session.begin():
        await ensure_admin(session, settings.bootstrap_admin_email, password)


SPEC = ServiceSpec(
    name="accounts",
    title="Accounts API",
    description="Companies (clients), their buyers and roles, client groups, credit standing, receivables, the client card and knowledge goals, contacts and interactions, login and API keys.",
    tags={
        "auth": "Log in, refresh and switch the company a person acts for; tokens are short-lived JWTs",
        "api-keys": "Keys for ERP integrators and partner marketplaces: create (the secret is shown once), list, revoke",
        "companies": "Clients (legal entities): master data, the client card, client groups and types, managers assigned",
        "members": "The people of a company, their roles, and invitations by email",
        "contacts": "The people of a client (portal users or not) and the seller's calls, meetings, e-mails and visits with them",
        "credit and statements": "Credit standing, receivables and reconciliation statements from the ERP",
        "pipeline": "Prospects and the stages of winning a client, with the manager's next step",
        "staff": "The seller's own people: sales managers, pricing managers, heads of sales",
        "internal": "Called by the gateway and other services only (API keys, revocations); not reachable from outside",
    },
    routers=[
        people.router,
        revocations.router,
        companies.router,
        contacts.router,
        finance.router,
        pipeline.router,
        feed_router(SPECS),
    ],
    pages=[people.pages, companies.pages, contacts.pages, pipeline.pages],
    consumers=CONSUMERS,
    workers=WORKERS,
    on_startup=[bootstrap_admin],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(SPEC, settings or Settings())
