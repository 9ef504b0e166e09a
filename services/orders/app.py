"""The orders service application."""

from fastapi import FastAPI

from services.orders.api import (
    carts,
    checkout,
    claims,
    documents,
    erp,
    lists,
    orders,
    quotes,
    shipments,
)
from services.orders.events import CONSUMERS
from services.orders.settings import Settings
from services.orders.workers import WORKERS
from shared.app import ServiceSpec, build_app

SPEC = ServiceSpec(
    name="orders",
    title="Orders API",
    description="Carts, quick order, requisition lists, checkout, the order state machine, delivery promises and OTIF, order export to ERP.",
    routers=[
        carts.router,
        lists.router,
        checkout.router,
        quotes.router,
        orders.router,
        erp.router,
        shipments.router,
        documents.router,
        claims.router,
    ],
    consumers=CONSUMERS,
    workers=WORKERS,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(SPEC, settings or Settings())
