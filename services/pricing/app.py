"""The pricing service application."""

from dataclasses import replace

from fastapi import FastAPI

from services.pricing.api import (
    bulk_policy,
    client_policy,
    governance,
    list_entries,
    partners,
    policy,
    policy_rules,
    prices,
    segments,
    simulate,
)
from services.pricing.api.feeds import SPECS
from services.pricing.events import CONSUMERS, consumers
from services.pricing.price_book.engine import start_price_book
from services.pricing.settings import Settings
from services.pricing.workers import BACKGROUND, WORKERS
from shared.app import ServiceSpec, build_app
from shared.feeds import feed_router

SPEC = ServiceSpec(
    name="pricing",
    title="Pricing API",
    description="Price lists, contract prices, volume tiers, commercial policy, explainable price resolution over the SKU x client matrix, ERP price feeds with dry runs, guardrails, approval, versions and rollback, segment rules, simulations, per-client partner feeds.",
    tags={
        "prices": "Resolve a client's price for SKUs and quantities, and explain how it was reached",
        "commercial policy": "Price lists, contract prices, volume tiers, discounts and promotions, and who gets which",
        "price governance": "Guardrails, approval of price changes, versions and rollback of price lists",
        "segment rules": "Rules that move clients between price lists as their segment changes",
        "partner feeds": "The prices a partner marketplace pulls for the clients it serves",
    },
    routers=[
        prices.router,
        policy.router,
        client_policy.router,
        policy_rules.router,
        bulk_policy.router,
        list_entries.router,
        governance.router,
        segments.router,
        simulate.router,
        partners.router,
        feed_router(SPECS),
    ],
    pages=[governance.pages, segments.pages],
    consumers=CONSUMERS,
    workers=WORKERS,
    on_startup=[start_price_book],
    background=BACKGROUND,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return build_app(replace(SPEC, consumers=consumers(settings)), settings)
