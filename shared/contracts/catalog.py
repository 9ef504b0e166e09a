"""Events the catalog service publishes."""

from __future__ import annotations

from datetime import datetime

from shared.events.envelope import EventContract, register

PRODUCT_TOPIC = "catalog.product"


@register
class ProductUpsertedV1(EventContract):
    """A product was created or its master data changed."""

    event_type = "product.upserted.v1"
    topic = PRODUCT_TOPIC
    aggregate_type = "product"

    sku: str
    name: str
    brand: str | None
    category: str | None
    unit: str
    sellable: bool
    updated_at: datetime

    def aggregate_id(self) -> str:
        return self.sku
