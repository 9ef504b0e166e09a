"""Tables of the orders service (its own database; no other service reads them)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.attachments import AttachedFile
from shared.clock import utcnow
from shared.db import TableConventions

QUANTITY = Numeric(18, 3)
ORDER_STATUSES = (
    "pending_approval",
    "credit_hold",
    "placed",
    "confirmed",
    "shipped",
    "delivered",
    "cancelled",
)


class Base(TableConventions, DeclarativeBase):
    pass


class Product(Base):
    """What orders needs to know of a SKU, projected from catalog's product.upserted."""

    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(16))
    min_order_qty: Mapped[Decimal] = mapped_column(QUANTITY)
    order_multiple: Mapped[Decimal] = mapped_column(QUANTITY)
    sellable: Mapped[bool]
    replacement_sku: Mapped[str | None] = mapped_column(String(64))
    cost_minor: Mapped[int | None] = mapped_column(BigInteger)  # per base unit
    cost_currency: Mapped[str | None] = mapped_column(String(3))
    updated_at: Mapped[datetime]


class Company(Base):
    """A client as orders needs it, projected from accounts' company.upserted."""

    __tablename__ = "companies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)  # ERP's id
    legal_name: Mapped[str] = mapped_column(String(300))
    currency: Mapped[str] = mapped_column(String(3))
    # The sales manager assigned to the client: the one sales manager who may act for it here.
    sales_manager_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    # The warehouse its orders take stock from first (catalog's reservation rule).
    preferred_warehouse: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class Cart(Base):
    """A buyer's named cart for one legal entity (project businesses keep one per project)."""

    __tablename__ = "carts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    company_id: Mapped[uuid.UUID]
    owner: Mapped[str] = mapped_column(String(100))  # the buyer's subject
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (Index("uq_carts_owner_name", "company_id", "owner", "name", unique=True),)


class SkuQuantity:
    """What a cart's, a requisition list's and a shipment's lines hold: a SKU, once per
    parent, and how many of it in the SKU's base unit."""

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)


class CartLine(SkuQuantity, Base):
    __tablename__ = "cart_lines"

    cart_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("carts.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(BigInteger, Identity())  # keeps the order lines came in

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class RequisitionList(Base):
    """A saved list of SKUs a company orders again and again."""

    __tablename__ = "requisition_lists"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    company_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (Index("uq_requisition_lists_name", "company_id", "name", unique=True),)


class RequisitionListLine(SkuQuantity, Base):
    __tablename__ = "requisition_list_lines"

    list_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("requisition_lists.id", ondelete="CASCADE"), primary_key=True
    )


class ApprovalRule(Base):
    """Set by the company admin: orders above an amount, or from a given buyer, wait for
    approval before they go to ERP."""

    __tablename__ = "approval_rules"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    company_id: Mapped[uuid.UUID] = mapped_column(index=True)
    above_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    buyer: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (
        CheckConstraint(
            "(above_minor IS NOT NULL AND currency IS NOT NULL) OR buyer IS NOT NULL",
            name="says_something",
        ),
    )


class Checkout(Base):
    """One checkout attempt, the saga's memory: reserve stock, then create the order, or give
    the stock back. The id is the reservation's reference in catalog."""

    __tablename__ = "checkouts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    company_id: Mapped[uuid.UUID]
    idempotency_key: Mapped[str] = mapped_column(String(200))
    cart_id: Mapped[uuid.UUID | None]
    state: Mapped[str] = mapped_column(String(16), default="started")
    reservation_id: Mapped[uuid.UUID | None]
    order_id: Mapped[uuid.UUID | None]
    failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (
        CheckConstraint(
            "state IN ('started', 'reserved', 'placed', 'settled', 'failed')", name="state_known"
        ),
        Index("uq_checkouts_key", "company_id", "idempotency_key", unique=True),
        Index(
            "ix_checkouts_unfinished",
            "updated_at",
            postgresql_where=text("state IN ('started', 'reserved', 'placed')"),
        ),
    )


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    company_id: Mapped[uuid.UUID]
    source: Mapped[str] = mapped_column(String(16))  # portal, manager, erp
    placed_by: Mapped[str] = mapped_column(String(100))
    on_behalf_of_client: Mapped[bool] = mapped_column(default=False)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)  # ERP's number
    status: Mapped[str] = mapped_column(String(20))
    hold_reason: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    reservation_id: Mapped[uuid.UUID | None]
    quote_id: Mapped[uuid.UUID | None]  # the accepted quote this order was made from
    # The earlier order of the same need this one adds to (an add-on, not a new deal), and the
    # need or project itself, as the buyer named them at checkout.
    adds_to_order_id: Mapped[uuid.UUID | None]
    need: Mapped[str | None] = mapped_column(String(100))
    cancel_reason_code: Mapped[str | None] = mapped_column(String(16))
    promised_from: Mapped[date | None]
    promised_to: Mapped[date | None]
    placed_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in ORDER_STATUSES) + ")",
            name="status_known",
        ),
        CheckConstraint("source IN ('portal', 'manager', 'erp')", name="source_known"),
        Index("ix_orders_company_placed", "company_id", text("placed_at DESC"), "id"),
        # the orders still on their way, by the end of their window (the missed-window check)
        Index(
            "ix_orders_promised_open",
            "promised_to",
            postgresql_where=text("status IN ('placed', 'confirmed', 'shipped')"),
        ),
    )


class LineColumns:
    """What an order's lines and a quote's lines both hold: the line's place, its SKU, the
    name it had then, and how many."""

    line_no: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)


class OrderLine(LineColumns, Base):
    """One line and its immutable price snapshot: the price, the rule, the price version and
    the pricing day that produced it, so a dispute months later is answered exactly."""

    __tablename__ = "order_lines"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    list_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    price_rule: Mapped[str] = mapped_column(String(200))
    priced_on: Mapped[date]
    # Pricing's price version the price came from (GET /price-versions/{id} in pricing);
    # null for quoted, offline and older lines.
    price_version: Mapped[int | None] = mapped_column(BigInteger)
    unit_cost_minor: Mapped[int | None] = mapped_column(BigInteger)  # for margins, not buyers
    delivered_quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    # Where catalog holds the line's stock: [{"warehouse": "MAIN", "quantity": "40.000"}], a
    # line split over warehouses has several; empty when nothing was reserved (offline orders).
    sources: Mapped[list[dict[str, str]]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )


class OrderDelay(Base):
    """A slipped promise the client was told of (order.delayed): ERP moved the date later, or
    the window ended before delivery. One row per order, reason and date, so the same slip is
    told once however often ERP repeats itself or the check runs, in any number of processes.
    A delivery after the date ERP moved from counts as late (OTIF)."""

    __tablename__ = "order_delays"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16))
    # The date the delay is about: the new one (date_moved), or the one missed (window_missed).
    promised_to: Mapped[date]
    moved_from: Mapped[date | None]  # the date ERP moved from
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("reason IN ('date_moved', 'window_missed')", name="reason_known"),
        Index("uq_order_delays_once", "order_id", "reason", "promised_to", unique=True),
    )


class OrderTransition(Base):
    """The audit trail: every status change, who made it and when."""

    __tablename__ = "order_transitions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class OrderDocument(AttachedFile, Base):
    """An invoice, waybill or closing document ERP attached to an order; the file is on disk."""

    __tablename__ = "order_documents"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[str | None] = mapped_column(String(100))
    issued_on: Mapped[date | None]

    __table_args__ = (
        CheckConstraint(
            "kind IN ('invoice', 'waybill', 'closing', 'certificate', 'other')", name="kind_known"
        ),
        Index("uq_order_documents_file", "order_id", "kind", "sha256", unique=True),
    )


class Shipment(Base):
    """One part of an order on its way, as ERP reports it (its own shipment number)."""

    __tablename__ = "shipments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(100))
    warehouse: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="stock")
    status: Mapped[str] = mapped_column(String(16))
    shipped_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("kind IN ('stock', 'made_to_order')", name="kind_known"),
        CheckConstraint("status IN ('shipped', 'delivered')", name="status_known"),
        Index("uq_shipments_order_number", "order_id", "number", unique=True),
    )


class ShipmentLine(SkuQuantity, Base):
    __tablename__ = "shipment_lines"

    shipment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), primary_key=True
    )
    delivered_quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)


class StockLevel(Base):
    """Available stock per SKU and warehouse, from catalog's stock.changed: what tells a SKU's
    return to stock (none anywhere before, some now) for the requisition lists that hold it."""

    __tablename__ = "stock_levels"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    warehouse: Mapped[str] = mapped_column(String(64), primary_key=True)
    available: Mapped[Decimal] = mapped_column(QUANTITY)
    changed_at: Mapped[datetime]


# The lists that hold a SKU, when it is back in stock.
Index("ix_requisition_list_lines_sku", RequisitionListLine.sku)


class OrderClaim(Base):
    """A return of goods or a complaint about an order, with its reason (churn analytics)."""

    __tablename__ = "order_claims"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    company_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(16))  # return, complaint
    reason_code: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (CheckConstraint("kind IN ('return', 'complaint')", name="kind_known"),)
