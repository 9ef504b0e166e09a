"""The catalog service application."""

from fastapi import FastAPI

from services.catalog.api import (
    attributes,
    availability,
    categories,
    certificates,
    marketplace,
    products,
    quantities,
    reservations,
)
from services.catalog.api.feeds import SPECS
from services.catalog.events import CONSUMERS
from services.catalog.settings import Settings
from services.catalog.workers import WORKERS
from shared.app import ServiceSpec, build_app
from shared.feeds import feed_router

SPEC = ServiceSpec(
    name="catalog",
    title="Catalog API",
    description="Products, SKUs, attributes, categories, units, warehouses, stock levels and reservations, search and marketplace feeds.",
    tags={
        "attributes": "Product attributes and their allowed values, for filters and the product card",
        "categories": "The category tree products are filed under",
        "products": "Products and SKUs with units, pack sizes and stock by warehouse (never the seller's cost)",
        "quality certificates": "Certificates of conformity and quality documents attached to a product",
        "availability": "What a cart's lines can ship from stock, what would be made to order, and when",
        "reservations": "Stock held for a checkout while an order is placed, renewed, released or confirmed",
        "marketplace feeds": "The catalog as a partner marketplace pulls it, in its own format",
    },
    routers=[
        attributes.router,
        categories.router,
        quantities.router,
        availability.router,
        certificates.router,
        products.router,
        reservations.router,
        marketplace.router,  # before the feed router: /feeds/marketplace/{partner}
        feed_router(SPECS),
    ],
    pages=[attributes.pages, categories.pages, products.pages],
    consumers=CONSUMERS,
    workers=WORKERS,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(SPEC, settings or Settings())
