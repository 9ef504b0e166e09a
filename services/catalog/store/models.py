"""Tables of the catalog service (its own database; no other service reads them)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.attachments import AttachedFile
from shared.clock import utcnow
from shared.db import TableConventions


class Base(TableConventions, DeclarativeBase):
    pass


# Words of the name weigh most, then brand, description and attribute values. 'simple' keeps
# words as written (no stemming): product names mix languages, codes and sizes; the search
# matches word prefixes instead.
SEARCH_VECTOR = (
    "setweight(to_tsvector('simple', coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('simple', coalesce(brand, '')), 'B') || "
    "setweight(to_tsvector('simple', coalesce(description, '')), 'C') || "
    "setweight(jsonb_to_tsvector('simple', attributes, '[\"string\", \"numeric\"]'), 'D')"
)


class Product(Base):
    """A sellable SKU, mastered in ERP: the catalog feed creates and updates it by `sku`."""

    __tablename__ = "products"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    brand: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(16), default="pcs")
    min_order_qty: Mapped[Decimal] = mapped_column(Numeric(18, 3), default=Decimal(1))
    order_multiple: Mapped[Decimal] = mapped_column(Numeric(18, 3), default=Decimal(1))
    status: Mapped[str] = mapped_column(String(16), default="active")
    replacement_sku: Mapped[str | None] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Alternative units: name -> how many base units one holds, as exact decimal text
    # ({"pack": "12", "pallet": "480"}); JSON numbers would come back as floats.
    units: Mapped[dict[str, str]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    # Decimals a quantity in the base unit may have: 0 for pieces, up to 3 (metres, kg).
    unit_precision: Mapped[int] = mapped_column(SmallInteger, default=3, server_default=text("3"))
    # Cost of goods per base unit, from ERP: for margins (orders snapshot it, analytics and
    # pricing use it); never shown to buyers.
    cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    cost_currency: Mapped[str | None] = mapped_column(String(3))
    # Image URLs, the main one first; the images themselves live where ERP or a CDN keeps them.
    images: Mapped[list[str]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )
    # How it is supplied: from stock, made to order (produced in `lead_time_days`, in batches
    # of at least `min_batch` and a multiple of `batch_multiple`, base units), or both.
    supply: Mapped[str] = mapped_column(String(16), default="stock", server_default="stock")
    lead_time_days: Mapped[int | None] = mapped_column(SmallInteger)
    min_batch: Mapped[Decimal | None] = mapped_column(Numeric(18, 3))
    batch_multiple: Mapped[Decimal | None] = mapped_column(Numeric(18, 3))
    # Per base unit, for delivery costs.
    weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(12, 3))
    volume_m3: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    # Full-text search over words: never loaded, only searched and ranked.
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, Computed(SEARCH_VECTOR, persisted=True), deferred=True, deferred_raiseload=True
    )
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (
        CheckConstraint("status IN ('active', 'discontinued')", name="status_known"),
        CheckConstraint("min_order_qty > 0 AND order_multiple > 0", name="quantities_positive"),
        CheckConstraint("unit_precision BETWEEN 0 AND 3", name="unit_precision_range"),
        CheckConstraint(
            "(cost_minor IS NULL) = (cost_currency IS NULL) AND cost_minor >= 0",
            name="cost_with_currency",
        ),
        CheckConstraint("supply IN ('stock', 'made_to_order', 'both')", name="supply_known"),
        CheckConstraint(
            "lead_time_days BETWEEN 0 AND 365 AND (supply = 'stock' OR lead_time_days IS NOT NULL)",
            name="lead_time_when_produced",
        ),
        CheckConstraint("min_batch > 0 AND batch_multiple > 0", name="batches_positive"),
        CheckConstraint("weight_kg > 0 AND volume_m3 > 0", name="measures_positive"),
        Index("ix_products_category_sku", "category", "sku"),
        Index("ix_products_brand_sku", "brand", "sku"),
        # Attribute filters (`attributes @> '{"color": "red"}'`).
        Index(
            "ix_products_attributes",
            "attributes",
            postgresql_using="gin",
            postgresql_ops={"attributes": "jsonb_path_ops"},
        ),
        # Words typed in part: every prefix of every search word is a GIN key (migration
        # catalog_0013 defines the function).
        Index(
            "ix_products_search_prefixes",
            text("catalog_word_prefixes(search_vector)"),
            postgresql_using="gin",
        ),
        Index("ix_products_name_sku", "name", "sku"),
        Index("ix_products_updated_at_sku", text("updated_at DESC"), "sku"),
        # Search: trigram for SKU codes and names typed in part.
        Index(
            "ix_products_search_trgm",
            text("(sku || ' ' || name) gin_trgm_ops"),
            postgresql_using="gin",
        ),
    )


class Category(Base):
    """A node of the category tree, mastered in ERP (the categories feed); products name it by
    `code` in `products.category`."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (
        CheckConstraint("parent_code IS DISTINCT FROM code", name="not_own_parent"),
        Index("ix_categories_parent_code", "parent_code"),
    )


class AttributeDefinition(Base):
    """A product attribute ERP declares (the attributes feed): its name and value type.

    Products carry values in `products.attributes` as JSON of that type: number, text, bool.
    """

    __tablename__ = "attribute_definitions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(8))
    label: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (CheckConstraint("type IN ('number', 'text', 'bool')", name="type_known"),)


class Warehouse(Base):
    """A warehouse stock is kept in; ERP is the master, so the stock feed creates them."""

    __tablename__ = "warehouses"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class StockLevel(Base):
    """What a warehouse holds of a SKU, in the SKU's base unit; available = on hand - reserved."""

    __tablename__ = "stock_levels"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    warehouse: Mapped[str] = mapped_column(String(64), primary_key=True)
    on_hand: Mapped[Decimal] = mapped_column(Numeric(18, 3), default=Decimal(0))
    reserved: Mapped[Decimal] = mapped_column(Numeric(18, 3), default=Decimal(0))
    as_of: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (
        CheckConstraint("on_hand >= 0 AND reserved >= 0", name="quantities_not_negative"),
    )


class Reservation(Base):
    """Stock held for a cart at checkout; released unless confirmed before it expires."""

    __tablename__ = "reservations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(200))  # e.g. the order or checkout id
    state: Mapped[str] = mapped_column(String(16), default="held")
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (
        CheckConstraint(
            "state IN ('held', 'confirmed', 'released', 'expired', 'shipped')", name="state_known"
        ),
        Index("ix_reservations_held_expiry", "expires_at", postgresql_where=text("state = 'held'")),
        Index("uq_reservations_reference", "reference", unique=True),
    )


class ReservationLine(Base):
    __tablename__ = "reservation_lines"

    reservation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reservations.id", ondelete="CASCADE"), primary_key=True
    )
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    warehouse: Mapped[str] = mapped_column(String(64), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))


class MarketplacePartner(Base):
    """A marketplace that pulls the catalog feed with a partner API key (its `partner_code`),
    and the pricing price list whose prices it gets; admins manage them."""

    __tablename__ = "marketplace_partners"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    price_list_code: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class PriceListChanges(Base):
    """How many price.changed events naming price lists catalog has heard: a version of every
    list's prices, so a marketplace feed's ETag changes when its prices may have."""

    __tablename__ = "price_list_changes"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)  # "lists"
    changes: Mapped[int] = mapped_column(BigInteger, default=0)
    last_change_id: Mapped[uuid.UUID]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class QualityCertificate(AttachedFile, Base):
    """A quality certificate (or declaration of conformity) of a SKU, or of one batch of it,
    uploaded by ERP: a document buyers download. The file is kept under the data directory."""

    __tablename__ = "quality_certificates"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    sku: Mapped[str] = mapped_column(String(64))
    batch: Mapped[str | None] = mapped_column(String(100))  # null: every batch of the SKU
    number: Mapped[str | None] = mapped_column(String(100))  # the certificate's own number
    valid_to: Mapped[date | None]

    __table_args__ = (
        Index("ix_quality_certificates_sku_batch", "sku", "batch", "uploaded_at"),
        # The same file for the same SKU and batch once: a retried upload is a conflict.
        Index(
            "uq_quality_certificates_sku_batch_sha256",
            "sku",
            text("coalesce(batch, '')"),
            "sha256",
            unique=True,
        ),
    )
