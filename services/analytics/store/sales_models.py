"""Tables of sales analytics: the pipeline, quotes, loss reasons, key accounts, the team's plans,
spend and offers. Beside `models.py`, on the same Base (so in the same metadata the migrations
compare with)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.analytics.store.models import QUANTITY, Base
from shared.clock import utcnow


class PipelineChange(Base):
    """A company's move to a stage of the sales pipeline (accounts' company.stage_changed)."""

    __tablename__ = "pipeline_changes"

    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    to_stage: Mapped[str] = mapped_column(String(64), primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(primary_key=True)
    from_stage: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int]
    source: Mapped[str | None] = mapped_column(String(100))


class QuoteFact(Base):
    """A quote's path: requested, offered (by whom, for how much), accepted into an order or
    declined (orders' quote.* events)."""

    __tablename__ = "quote_facts"

    quote_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(index=True)
    currency: Mapped[str] = mapped_column(String(3))
    requested_at: Mapped[datetime]
    offered_at: Mapped[datetime | None]
    offered_minor: Mapped[int | None] = mapped_column(BigInteger)
    offered_by: Mapped[str | None] = mapped_column(String(100))
    accepted_at: Mapped[datetime | None]
    accepted_minor: Mapped[int | None] = mapped_column(BigInteger)
    order_id: Mapped[uuid.UUID | None]
    declined_at: Mapped[datetime | None]


class QuoteLineFact(Base):
    """The SKUs a quote asked for or offered: the top of the unit funnel."""

    __tablename__ = "quote_line_facts"

    quote_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)


class LossReasonFact(Base):
    """Why a client cancelled, returned, complained or left (the churn questionnaire)."""

    __tablename__ = "loss_reasons"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # cancellation ...
    source_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(index=True)
    reason_code: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


class KeyAccountMark(Base):
    """A manager's reasons to treat a client as key besides its share of sales."""

    __tablename__ = "key_account_marks"

    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    criteria: Mapped[list[str]] = mapped_column(JSONB, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class SalesTeamMember(Base):
    """A sales manager's name and department (key accounts by department), set by an admin."""

    __tablename__ = "sales_team"

    manager_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class ManagerPlan(Base):
    """A sales manager's sales plan for a month: plan versus fact of the team."""

    __tablename__ = "manager_plans"

    manager_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    plan_minor: Mapped[int] = mapped_column(BigInteger)
    set_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class SalesSpend(Base):
    """Money spent in a month on winning clients (acquisition) or keeping them (loyalty and
    retro bonuses paid), as finance reports it."""

    __tablename__ = "sales_spend"

    month: Mapped[date] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    set_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class UpsellOffer(Base):
    """An offer shown to a client: a dearer equivalent (upsell) or a companion SKU (cross-sell).
    Accepted when the client orders the SKU within the acceptance window."""

    __tablename__ = "upsell_offers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))  # upsell, cross_sell
    sku: Mapped[str] = mapped_column(String(64))
    instead_of_sku: Mapped[str | None] = mapped_column(String(64))
    shown_at: Mapped[datetime]
    shown_by: Mapped[str] = mapped_column(String(100))
