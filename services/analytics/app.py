"""The analytics service application."""

from fastapi import FastAPI

from services.analytics.events import CONSUMERS
from services.analytics.settings import Settings
from shared.app import ServiceSpec, build_app

SPEC = ServiceSpec(
    name="analytics",
    title="Analytics API",
    description="Client facts built from events: LTV, ABC/XYZ, RFM, regularity, ladder, churn risk, share of wallet, cross-sell gaps, satisfaction.",
    routers=[],
    consumers=CONSUMERS,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(SPEC, settings or Settings())
