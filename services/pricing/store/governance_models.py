"""Tables of price governance (versions, their rows, guardrails), of segment rules, and the
volumes simulations price: on the same Base as store/models.py (so in the same metadata the
migrations compare with)."""

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
    String,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.pricing.store.models import PERCENT, QTY, Base
from shared.clock import utcnow


class PriceVersion(Base):
    """One applied (or staged) change of stored prices: a feed, or the rollback of a version.

    A version keeps the rows it changed, each with its value before and after
    (`price_version_rows`), never a copy of the matrix: rolling back writes the befores
    again, and `explain` as of a past moment undoes the versions applied since.
    """

    __tablename__ = "price_versions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # staged | applied | rolled_back | discarded
    cause: Mapped[str] = mapped_column(String(200))  # feed:<job id> | rollback:<version>
    job_id: Mapped[uuid.UUID | None]
    created_by: Mapped[str] = mapped_column(String(200))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    override_by: Mapped[str | None] = mapped_column(String(200))
    override_reason: Mapped[str | None] = mapped_column(String(1000))
    reason: Mapped[str | None] = mapped_column(String(1000))  # why it was rolled back
    rollback_of: Mapped[int | None] = mapped_column(BigInteger)
    rolled_back_by: Mapped[int | None] = mapped_column(BigInteger)
    # Whether the rows describe the whole change: a factored full-matrix feed rebuilds the
    # stored form and keeps no rows, so it cannot be rolled back row by row.
    restorable: Mapped[bool] = mapped_column(default=True)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    diff: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # A derived list's parent and markup before and after, for an edit of lists rather than
    # of stored rows: [{"list_id", "code", "before": {...}, "after": {...}}].
    list_changes: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default="[]"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(
            "state IN ('staged', 'applied', 'rolled_back', 'discarded')", name="state_known"
        ),
        Index("ix_price_versions_applied_at", "applied_at"),
    )


class PriceVersionRow(Base):
    """A stored price row before and after a version: null price = the row did not exist.

    `target` is 'L' (a list entry, target_id = list id) or 'C' (a client's contract price,
    target_id = client id). No primary key, as in contract_prices: a version's diff has one
    row per stored key by construction, rows arrive in version order (a BRIN index finds a
    version's rows for a rollback), and explain as of a past moment reads one SKU's rows.
    About 125 bytes a changed row with both indexes.
    """

    __tablename__ = "price_version_rows"
    __mapper_args__ = {
        "primary_key": ["version_id", "target", "target_id", "sku_id", "min_qty", "valid_from"]
    }

    version_id: Mapped[int] = mapped_column(BigInteger)  # written with its version, never alone
    target: Mapped[str] = mapped_column(String(1))
    target_id: Mapped[int] = mapped_column(Integer)
    sku_id: Mapped[int] = mapped_column(Integer)
    min_qty: Mapped[Decimal] = mapped_column(QTY)
    valid_from: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    old_price: Mapped[int | None] = mapped_column(BigInteger)
    old_valid_to: Mapped[date | None]
    new_price: Mapped[int | None] = mapped_column(BigInteger)
    new_valid_to: Mapped[date | None]

    __table_args__ = (
        Index("ix_price_version_rows_version", "version_id", postgresql_using="brin"),
        # explain as of a past moment reads one SKU's rows of the versions since then
        Index("ix_price_version_rows_sku", "sku_id", "target", "target_id"),
    )


class Guardrail(Base):
    """Limits a price feed must respect, per price list; `*` holds the default (and the
    limits on clients' own prices). A null limit is no limit."""

    __tablename__ = "price_guardrails"

    list_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    max_row_change_percent: Mapped[Decimal | None] = mapped_column(PERCENT)
    max_feed_change_percent: Mapped[Decimal | None] = mapped_column(PERCENT)
    min_margin_percent: Mapped[Decimal | None] = mapped_column(PERCENT)
    enforce_floor: Mapped[bool] = mapped_column(default=True)
    requires_approval: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClientSegment(Base):
    """Pricing's projection of a client's analytics segments (client.segment_changed)."""

    __tablename__ = "client_segments"

    client_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime]


class SegmentRule(Base):
    """When a client's segments match `conditions` ({dimension: value}, all of them), give it
    a price list or a discount, for `duration_days` (null: while it matches)."""

    __tablename__ = "segment_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    conditions: Mapped[dict[str, str]] = mapped_column(JSONB)
    action: Mapped[str] = mapped_column(String(16))  # price_list | discount
    list_id: Mapped[int | None] = mapped_column(ForeignKey("price_lists.id", ondelete="CASCADE"))
    discount_scope: Mapped[str | None] = mapped_column(String(16))
    discount_value: Mapped[str | None] = mapped_column(String(100))
    discount_percent: Mapped[Decimal | None] = mapped_column(PERCENT)
    duration_days: Mapped[int | None]
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("action IN ('price_list', 'discount')", name="action_known"),)


class SegmentAssignment(Base):
    """What a segment rule gave a client, with the segments that caused it."""

    __tablename__ = "segment_assignments"

    client_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(
        ForeignKey("segment_rules.id", ondelete="CASCADE"), primary_key=True
    )
    segments: Mapped[dict[str, str]] = mapped_column(JSONB)
    assigned_at: Mapped[datetime]
    valid_to: Mapped[date | None]  # exclusive; null: while the rule matches


class ClientSkuVolume(Base):
    """What a client bought of a SKU per month (order.placed): what simulations price."""

    __tablename__ = "client_sku_volumes"

    client_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(QTY)
    lines: Mapped[int] = mapped_column(
        default=0
    )  # order lines: quantity / lines is a typical order
    revenue_minor: Mapped[int] = mapped_column(BigInteger)


class OrderSkuVolume(Base):
    """One placed order's volumes per SKU, kept so that its cancellation takes exactly them
    back out of `client_sku_volumes` (order.cancelled carries no lines)."""

    __tablename__ = "order_sku_volumes"

    client_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    month: Mapped[date]
    quantity: Mapped[Decimal] = mapped_column(QTY)
    lines: Mapped[int]
    revenue_minor: Mapped[int] = mapped_column(BigInteger)
