"""The catalog service application."""

from fastapi import FastAPI

from services.catalog.events import CONSUMERS
from services.catalog.settings import Settings
from shared.app import ServiceSpec, build_app

SPEC = ServiceSpec(
    name="catalog",
    title="Catalog API",
    description="Products, SKUs, attributes, categories, units, warehouses, stock levels and reservations, search and marketplace feeds.",
    routers=[],
    consumers=CONSUMERS,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(SPEC, settings or Settings())
