"""The pricing service application."""

from fastapi import FastAPI

from services.pricing.events import CONSUMERS
from services.pricing.settings import Settings
from shared.app import ServiceSpec, build_app

SPEC = ServiceSpec(
    name="pricing",
    title="Pricing API",
    description="Price lists, contract prices, volume tiers, commercial policy, explainable price resolution over the SKU x client matrix, ERP price feeds.",
    routers=[],
    consumers=CONSUMERS,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(SPEC, settings or Settings())
