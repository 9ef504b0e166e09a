"""The orders service application."""

from fastapi import FastAPI

from services.orders.api import (
    carts,
    checkout,
    claims,
    delivery,
    documents,
    erp,
    lists,
    orders,
    quotes,
    shipments,
)
from services.orders.api.feeds import SPECS
from services.orders.events import CONSUMERS
from services.orders.settings import Settings
from services.orders.workers import WORKERS
from shared.app import ServiceSpec, build_app
from shared.feeds import feed_router

SPEC = ServiceSpec(
    name="orders",
    title="Orders API",
    description="Carts, quick order, requisition lists, checkout, the order state machine, delivery promises and OTIF, order export to ERP.",
    tags={
        "carts": "A company's carts: lines, quick order by SKU list or file, priced and checked as they change",
        "checkout": "Turn a cart into an order: minimum order, credit, approval and stock reserved in one step",
        "orders": "Orders and their states from placed to delivered, with delivery promises and history",
        "quotes": "Quotes a manager prepares for a client, which the client accepts into an order",
        "requisition lists": "Lists a company reorders from, and is told when an item is back in stock",
        "ERP": "Orders for the ERP to fulfil, their status and shipments back, and offline orders",
        "order documents": "Invoices, delivery notes and other documents the ERP attaches to an order",
        "returns and complaints": "A client's returns and complaints about delivered lines",
        "delivery": "What a shipment costs to an address and how long it travels, from ERP's tariffs",
    },
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
        delivery.router,
        feed_router(SPECS),
    ],
    pages=[carts.pages, lists.pages, orders.pages, documents.pages, claims.pages, delivery.pages],
    consumers=CONSUMERS,
    workers=WORKERS,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(SPEC, settings or Settings())
