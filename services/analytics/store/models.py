"""Tables of the analytics service (its own database; no other service reads them).

Facts are written by the event handlers (orders, deliveries, companies, products, credit)
and by the feedback endpoint; segments are what a recompute derived from them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Index, Numeric, SmallInteger, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.clock import utcnow
from shared.db import TableConventions

QUANTITY = Numeric(18, 3)


class Base(TableConventions, DeclarativeBase):
    pass


class Client(Base):
    """A client company as analytics needs it, from accounts' company.upserted and
    company.credit_changed (receivables)."""

    __tablename__ = "clients"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(300))
    industry: Mapped[str | None] = mapped_column(String(100))
    client_type: Mapped[str | None] = mapped_column(String(64))
    client_group: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[str | None] = mapped_column(String(64))
    sales_manager_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    purchase_potential_minor: Mapped[int | None] = mapped_column(BigInteger)
    balance_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    overdue_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    oldest_overdue_date: Mapped[date | None]
    updated_at: Mapped[datetime]


class Product(Base):
    """A SKU's brand and category, from catalog's product.upserted."""

    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    brand: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class OrderFact(Base):
    """One order: what it was worth, what it cost where the cost is known, how it was delivered.

    `counted` is false once cancelled (the order stops counting everywhere)."""

    __tablename__ = "order_facts"

    order_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    client_id: Mapped[uuid.UUID]
    currency: Mapped[str] = mapped_column(String(3))
    placed_at: Mapped[datetime]
    total_minor: Mapped[int] = mapped_column(BigInteger)
    # Sum of the lines whose cost is known, and their cost: margin = costed - cost.
    costed_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    lines: Mapped[int] = mapped_column(SmallInteger, default=0)
    source: Mapped[str] = mapped_column(String(16))
    counted: Mapped[bool] = mapped_column(default=True)
    delivered_at: Mapped[datetime | None]
    # What was delivered, valued at the order's prices (partial deliveries count partly).
    delivered_minor: Mapped[int | None] = mapped_column(BigInteger)
    on_time: Mapped[bool | None]
    in_full: Mapped[bool | None]
    # Who placed it (a manager on the client's behalf), and the need it serves or the earlier
    # order it adds to: an add-on inside the window is not a new deal.
    placed_by: Mapped[str | None] = mapped_column(String(100))
    on_behalf: Mapped[bool] = mapped_column(default=False, server_default="false")
    adds_to_order_id: Mapped[uuid.UUID | None]
    need: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (Index("ix_order_facts_client", "client_id", "placed_at"),)


class OrderLineFact(Base):
    """One line of an order with its price and (when known) its unit cost."""

    __tablename__ = "order_line_facts"

    order_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    line_no: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    client_id: Mapped[uuid.UUID]
    placed_at: Mapped[datetime]
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    revenue_minor: Mapped[int] = mapped_column(BigInteger)
    cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    unit_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    list_price_minor: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_order_line_facts_client", "client_id", "sku"),)


class ClientSkuFact(Base):
    """Per client and SKU: what it bought in counted orders, and when last (cross-sell peers)."""

    __tablename__ = "client_sku_facts"

    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    lines: Mapped[int]
    quantity: Mapped[Decimal] = mapped_column(Numeric(20, 3))
    revenue_minor: Mapped[int] = mapped_column(BigInteger)
    last_at: Mapped[datetime]


class SkuMonthFact(Base):
    """Per SKU, currency and month: revenue and quantity of counted orders (for SKU ABC/XYZ)."""

    __tablename__ = "sku_month_facts"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    revenue_minor: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[Decimal] = mapped_column(Numeric(20, 3))
    lines: Mapped[int]


class Feedback(Base):
    """A buyer's score of one touchpoint (portal, manager, delivery, product) after an order."""

    __tablename__ = "feedback"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(index=True)
    order_id: Mapped[uuid.UUID | None]
    touchpoint: Mapped[str] = mapped_column(String(16))
    nps: Mapped[int | None] = mapped_column(SmallInteger)  # 0..10 would you recommend us
    csat: Mapped[int | None] = mapped_column(SmallInteger)  # 1..5 how satisfied
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (
        Index(
            "uq_feedback_once",
            "client_id",
            "order_id",
            "touchpoint",
            "submitted_by",
            unique=True,
            postgresql_where=text("order_id IS NOT NULL"),
        ),
    )


class ClientSegment(Base):
    """What the last recompute said of a client: every metric and segment, as read by the API.

    `segments` holds the named dimensions whose changes are events (abc_revenue, xyz, ...);
    `metrics` the figures behind them. Both are JSON so a new metric needs no migration."""

    __tablename__ = "client_segments"

    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    abc_revenue: Mapped[str | None] = mapped_column(String(1))
    abc_margin: Mapped[str | None] = mapped_column(String(1))
    xyz: Mapped[str | None] = mapped_column(String(1))
    rfm_segment: Mapped[str | None] = mapped_column(String(32))
    regularity: Mapped[str | None] = mapped_column(String(16))
    check_tier: Mapped[str | None] = mapped_column(String(16))
    ladder: Mapped[str | None] = mapped_column(String(16))
    churn_score: Mapped[int | None] = mapped_column(SmallInteger)
    churn_raised: Mapped[bool] = mapped_column(default=False)
    payment_behaviour: Mapped[str | None] = mapped_column(String(32))
    concentration: Mapped[str | None] = mapped_column(String(32))
    revenue_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    ltv_minor: Mapped[int | None] = mapped_column(BigInteger)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    computed_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_client_segments_rfm", "rfm_segment", "client_id"),
        Index("ix_client_segments_abc", "abc_revenue", "xyz", "client_id"),
        Index("ix_client_segments_churn", "churn_score", "client_id"),
    )


class SkuSegment(Base):
    """SKU ABC by revenue and XYZ by the variation of its monthly quantity."""

    __tablename__ = "sku_segments"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    abc: Mapped[str | None] = mapped_column(String(1))
    xyz: Mapped[str | None] = mapped_column(String(1))
    revenue_minor: Mapped[int] = mapped_column(BigInteger)
    quantity_cv: Mapped[float | None]
    computed_at: Mapped[datetime]


class SalesPlan(Base):
    """A client's sales plan for a month, set by its manager: plan versus fact."""

    __tablename__ = "sales_plans"

    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)  # the first day of the month
    currency: Mapped[str] = mapped_column(String(3))
    plan_minor: Mapped[int] = mapped_column(BigInteger)
    set_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class DirtyClient(Base):
    """A client whose facts changed since its segments were last computed: the event handler
    adds it in its transaction, the next batch recompute takes it."""

    __tablename__ = "dirty_clients"

    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    since: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class BaseStats(Base):
    """Per currency: the base-wide figures of the last full recompute (breakpoints, totals,
    the summary) that one client's recompute after an event classifies against."""

    __tablename__ = "base_stats"

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    stats: Mapped[dict[str, Any]] = mapped_column(JSONB)
    computed_at: Mapped[datetime]


class StockLevel(Base):
    """Available stock per SKU and warehouse, from catalog's stock.changed: what tells that a
    SKU ran out everywhere (for the clients whose A class it is)."""

    __tablename__ = "stock_levels"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    warehouse: Mapped[str] = mapped_column(String(64), primary_key=True)
    available: Mapped[Decimal] = mapped_column(QUANTITY)
    changed_at: Mapped[datetime]


class PriceCheck(Base):
    """A price change (pricing's price.changed) to compare with what clients paid: the event
    handler queues it, the price-check worker asks pricing and tells the clients concerned."""

    __tablename__ = "price_checks"

    change_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    client_ids: Mapped[list[str] | None] = mapped_column(JSONB)  # null: every client
    sku_from: Mapped[str | None] = mapped_column(String(64))
    sku_to: Mapped[str | None] = mapped_column(String(64))
    changed_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    clients_told: Mapped[int | None]

    __table_args__ = (
        Index("ix_price_checks_pending", "changed_at", postgresql_where=text("done_at IS NULL")),
    )


class CrossSellOffer(Base):
    """The last cross-sell offer told to a client: at most one every few days."""

    __tablename__ = "cross_sell_offers"

    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    offered_at: Mapped[datetime]
    categories: Mapped[list[str]] = mapped_column(JSONB)


# The clients that bought a SKU, when it runs out.
Index("ix_client_sku_facts_sku", ClientSkuFact.sku, ClientSkuFact.last_at)
