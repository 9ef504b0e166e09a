"""Typed answers of the calls the client makes, written from openapi/gateway.openapi.json.

Each model names the document's schema it reads (`SCHEMA`); a test fails when a field here is
not in that schema, or when a field the schema may leave out is required here. Fields the
client does not use are not modelled and are ignored, so additions to the API never break it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    SCHEMA: ClassVar[str]


class Page(BaseModel, Generic[T]):
    """A page of a list; pass `next_cursor` back as `cursor` for the next one."""

    items: list[T]
    next_cursor: str | None = None


class Token(Model):
    SCHEMA = "AccountsTokenRead"
    access_token: str
    expires_in: int
    company_id: str | None


class FeedJob(Model):
    SCHEMA = "AccountsFeedJobRead"  # every service's feed jobs have this shape
    id: str
    kind: str
    state: str
    rows_total: int | None
    rows_rejected: int | None
    rows_applied: int | None
    error: str | None
    rejections_url: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("succeeded", "rejected", "failed")


class Company(Model):
    SCHEMA = "AccountsCompanyRead"
    id: str
    external_id: str | None
    legal_name: str
    currency: str
    status: str
    version: int


class NextTier(Model):
    SCHEMA = "CatalogNextTier"
    min_qty: str
    unit_price_minor: int


class ClientPrice(Model):
    SCHEMA = "CatalogClientPrice"
    quantity: str
    unit_price_minor: int | None
    list_price_minor: int | None
    currency: str
    rule: str
    next_tier: NextTier | None


class Product(Model):
    SCHEMA = "CatalogProductRead"
    sku: str
    name: str
    brand: str | None
    category: str | None
    unit: str
    status: str
    price: ClientPrice | None = None
    available: str | None = None


class CartSummary(Model):
    SCHEMA = "OrdersCartSummary"
    id: str
    name: str
    company_id: str
    lines: int


class CartLine(Model):
    SCHEMA = "OrdersCartLineRead"
    sku: str
    quantity: str
    unit_price_minor: int | None
    list_price_minor: int | None
    line_total_minor: int | None
    rule: str | None


class Cart(Model):
    SCHEMA = "OrdersCartRead"
    id: str
    name: str
    company_id: str
    currency: str | None
    lines: list[CartLine]
    total_minor: int


class LineProblem(Model):
    SCHEMA = "OrdersLineProblemRead"
    row: int | None = None
    sku: str | None = None
    reason: str


class QuickOrderResult(Model):
    SCHEMA = "OrdersQuickOrderResult"
    added: int
    problems: list[LineProblem]


class Shipment(Model):
    SCHEMA = "OrdersShipmentRead"
    number: str
    status: str
    shipped_at: datetime
    delivered_at: datetime | None


class OrderSummary(Model):
    SCHEMA = "OrdersOrderSummary"
    id: str
    number: str
    company_id: str
    status: str
    currency: str
    total_minor: int
    placed_at: datetime


class Order(OrderSummary):
    SCHEMA = "OrdersOrderRead"
    shipments: list[Shipment]
    lines: list[dict[str, Any]]


class ClientProfile(Model):
    SCHEMA = "AnalyticsClientProfile"
    client_id: str
    currency: str
    segments: dict[str, Any]
    metrics: dict[str, Any]


class InboxMessage(Model):
    SCHEMA = "NotificationsInboxMessage"
    id: str
    kind: str
    subject: str
    body: str
    event_type: str
    created_at: datetime
    read_at: datetime | None
