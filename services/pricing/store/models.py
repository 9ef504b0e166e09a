"""Tables of the pricing service (its own database; no other service reads them).

Clients and SKUs get small integer ids here: the matrix has one row per (client, SKU) at
worst, and two int4 keys instead of two UUIDs or codes is what keeps a row under 100 bytes.
Every client-keyed table leads with `client_id`, the distribution key on Citus.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.clock import utcnow
from shared.db import TableConventions

QTY = Numeric(18, 3)
PERCENT = Numeric(5, 2)  # two decimals, so percent arithmetic on minor units stays exact
OPEN_PAST = text("'-infinity'::date")  # a price valid "since always"


class Base(TableConventions, DeclarativeBase):
    pass


class Client(Base):
    """Projection of an accounts company (company.upserted events)."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    legal_name: Mapped[str] = mapped_column(String(300), default="")
    group_code: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Marketplace partners the client is registered with (accounts): who may pull its prices.
    partners: Mapped[list[str]] = mapped_column(
        ARRAY(String(64)), default=list, server_default="{}"
    )
    # The assigned sales manager: of the sales managers, only it may read the client's prices.
    sales_manager_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_clients_partners", "partners", postgresql_using="gin"),)


class Sku(Base):
    """Projection of a catalog product (product.upserted events): what policy needs of it."""

    __tablename__ = "skus"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    brand: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(16), default="pcs")
    sellable: Mapped[bool] = mapped_column(default=True)
    # Cost of goods (catalog, internal): the margin guardrail and simulations measure on it.
    cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    cost_currency: Mapped[str | None] = mapped_column(String(3))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PriceList(Base):
    """A list of prices in one currency. A list with a parent has no entries of its own: its
    prices are the parent's with `markup_bp` applied (basis points; -500 is 5 % off)."""

    __tablename__ = "price_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    currency: Mapped[str] = mapped_column(String(3))
    priority: Mapped[int] = mapped_column(default=0)  # among a client's lists, higher wins
    is_base: Mapped[bool] = mapped_column(default=False)
    # A list the engine derived from a matrix feed: one distinct client price vector.
    is_matrix: Mapped[bool] = mapped_column(default=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("price_lists.id", ondelete="CASCADE"))
    markup_bp: Mapped[int] = mapped_column(default=0)
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("markup_bp > -10000", name="markup_above_minus_100_percent"),
        Index("ix_price_lists_base", "currency", postgresql_where=text("is_base")),
    )


class PriceListEntry(Base):
    __tablename__ = "price_list_entries"

    list_id: Mapped[int] = mapped_column(
        ForeignKey("price_lists.id", ondelete="CASCADE"), primary_key=True
    )
    sku_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    min_qty: Mapped[Decimal] = mapped_column(QTY, primary_key=True)
    valid_from: Mapped[date] = mapped_column(primary_key=True, server_default=OPEN_PAST)
    valid_to: Mapped[date | None]  # exclusive
    price_minor: Mapped[int] = mapped_column(BigInteger)


class ClientPriceList(Base):
    """A list assigned to one client."""

    __tablename__ = "client_price_lists"

    client_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(
        ForeignKey("price_lists.id", ondelete="CASCADE"), primary_key=True
    )


class GroupPriceList(Base):
    """A list assigned to every client of a client group."""

    __tablename__ = "group_price_lists"

    group_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    list_id: Mapped[int] = mapped_column(
        ForeignKey("price_lists.id", ondelete="CASCADE"), primary_key=True
    )


class ContractPrice(Base):
    """A client's own price for a SKU and tier: net, no discount applies on top.

    No primary key on purpose: the (client_id, sku_id) index serves every lookup, and the feed
    guarantees one row per (client, SKU, tier, valid_from). Keeping it narrow is what holds a
    flat 100 M-row matrix to under 100 bytes a row with its index.
    """

    __tablename__ = "contract_prices"
    __mapper_args__ = {"primary_key": ["client_id", "sku_id", "min_qty", "valid_from"]}

    client_id: Mapped[int] = mapped_column(Integer)
    sku_id: Mapped[int] = mapped_column(Integer)
    price_minor: Mapped[int] = mapped_column(BigInteger)
    valid_from: Mapped[date] = mapped_column(server_default=OPEN_PAST)
    valid_to: Mapped[date | None]
    min_qty: Mapped[Decimal] = mapped_column(QTY, server_default=text("1"))
    currency: Mapped[str] = mapped_column(String(3))

    __table_args__ = (
        Index("ix_contract_prices_client_sku", "client_id", "sku_id"),
        # The few dated rows (future prices, ends): a delta's overlap check reads only these.
        Index(
            "ix_contract_prices_dated",
            "client_id",
            "sku_id",
            postgresql_where=text("isfinite(valid_from) OR isfinite(valid_to)"),
        ),
    )


class ClientMatrix(Base):
    """A client whose matrix prices are a derived list's, with its own uniform percent."""

    __tablename__ = "client_matrix"

    client_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("price_lists.id", ondelete="CASCADE"))
    markup_bp: Mapped[int] = mapped_column(default=0)


class MatrixGap(Base):
    """A SKU the client's derived list has but the client's matrix did not: no matrix price."""

    __tablename__ = "matrix_gaps"

    client_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class ClientDiscount(Base):
    """A client's discount on list prices of one brand or one category."""

    __tablename__ = "client_discounts"

    client_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)  # brand | category
    value: Mapped[str] = mapped_column(String(100), primary_key=True)
    percent: Mapped[Decimal] = mapped_column(PERCENT)

    __table_args__ = (
        CheckConstraint("scope IN ('brand', 'category')", name="scope_known"),
        CheckConstraint("percent > 0 AND percent < 100", name="percent_range"),
    )


class FloorPrice(Base):
    """The lowest unit price a SKU may ever be sold at, per currency."""

    __tablename__ = "floor_prices"

    sku_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    price_minor: Mapped[int] = mapped_column(BigInteger)


class Promotion(Base):
    """Percent off list prices of a SKU, brand or category for a time window."""

    __tablename__ = "promotions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    scope: Mapped[str] = mapped_column(String(16))  # sku | brand | category
    value: Mapped[str] = mapped_column(String(100))
    percent: Mapped[Decimal] = mapped_column(PERCENT)
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]

    __table_args__ = (
        CheckConstraint("scope IN ('sku', 'brand', 'category')", name="scope_known"),
        CheckConstraint("percent > 0 AND percent < 100", name="percent_range"),
    )


class Ladder(Base):
    """Commercial-policy ladder: turnover in a period unlocks a discount or a retro bonus."""

    __tablename__ = "ladders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    period: Mapped[str] = mapped_column(String(8))  # month | quarter | year
    currency: Mapped[str] = mapped_column(String(3))
    # [{"threshold_minor", "discount_percent", "bonus_percent"}], see domain.ladder.Level
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)

    __table_args__ = (
        CheckConstraint("period IN ('month', 'quarter', 'year')", name="period_known"),
    )


class ClientLadder(Base):
    __tablename__ = "client_ladders"

    client_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ladder_id: Mapped[int] = mapped_column(ForeignKey("ladders.id", ondelete="CASCADE"))


class ClientTurnover(Base):
    """Pricing's projection of a client's turnover per calendar month, from order events."""

    __tablename__ = "client_turnover"

    client_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)  # first day of the month
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class ContractExpiryNotice(Base):
    """A client's contract prices ending on `valid_to` were announced (once per client and end
    date, so a restart or a second worker does not announce them again)."""

    __tablename__ = "contract_expiry_notices"

    client_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    valid_to: Mapped[date] = mapped_column(primary_key=True)
    run_id: Mapped[uuid.UUID]
    announced_at: Mapped[datetime] = mapped_column(default=utcnow)
