"""Tables of the accounts service (its own database; no other service reads them)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column

from shared.attachments import AttachedFile
from shared.clock import utcnow
from shared.db import TableConventions


class Base(TableConventions, DeclarativeBase):
    pass


class ClientGroup(Base):
    """A segment of clients (dealers, contractors, key accounts) that prices and policy target."""

    __tablename__ = "client_groups"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class ClientType(Base):
    """A kind of client and the custom fields its client card has."""

    __tablename__ = "client_types"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # [{"key", "label", "type", "required", "choices"}]; see domain.card.CardField
    card_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Company(Base):
    """A client: one legal entity that buys. A holding's entities are separate companies."""

    __tablename__ = "companies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)  # ERP's client id
    legal_name: Mapped[str] = mapped_column(String(300))
    tax_id: Mapped[str | None] = mapped_column(String(32))
    industry: Mapped[str | None] = mapped_column(String(100))
    client_type: Mapped[str | None] = mapped_column(ForeignKey("client_types.code"))
    client_group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("client_groups.id"))
    sales_manager_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    credit_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    payment_terms_days: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # When it was blocked (None while active): its people's tokens acting for it stop working.
    blocked_at: Mapped[datetime | None] = mapped_column(index=True)
    card: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    # Marketplace partners the client is registered with: each may pull its own prices.
    partners: Mapped[list[str]] = mapped_column(
        ARRAY(String(64)), default=list, server_default="{}"
    )
    # The warehouse (catalog's code) the client's orders take stock from first.
    preferred_warehouse: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (
        CheckConstraint("status IN ('active', 'blocked')", name="status"),
        CheckConstraint("credit_limit_minor IS NULL OR credit_limit_minor >= 0", name="credit"),
        Index("ix_companies_legal_name_id", "legal_name", "id"),
        Index("ix_companies_sales_manager_id", "sales_manager_id"),
    )


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # legal, billing, shipping
    label: Mapped[str | None] = mapped_column(String(200))
    line1: Mapped[str] = mapped_column(String(300))
    line2: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class User(Base):
    """A person: a client's buyer, or staff (sales manager, admin) of the seller."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(Text)
    staff_role: Mapped[str | None] = mapped_column(String(32))  # admin, sales_manager
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    # Raised when the person loses access (removed from a company, deactivated): tokens carry
    # the generation they were issued at, and the gateway refuses older ones (see README).
    access_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    access_revoked_at: Mapped[datetime | None] = mapped_column(index=True)


class Membership(Base):
    """A user may act for a company in a role; one user may act for several entities."""

    __tablename__ = "memberships"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(32))  # buyer, company_admin
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class LoginFailures(Base):
    """Failed passwords of one email (known or not, so the lock-out says nothing of who has an
    account): after a few the login is locked for a growing while; a success forgets them."""

    __tablename__ = "login_failures"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)  # lower-case
    failures: Mapped[int]
    last_failed_at: Mapped[datetime] = mapped_column(index=True)  # to prune the forgotten
    locked_until: Mapped[datetime | None]


class Invitation(Base):
    __tablename__ = "invitations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(32))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[uuid.UUID | None]
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class ApiKey(Base):
    """An integrator's or partner's key; only a hash of its secret is kept."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))  # integrator, partner
    partner_code: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    revoked_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("role IN ('integrator', 'partner')", name="role"),
        CheckConstraint("role <> 'partner' OR partner_code IS NOT NULL", name="partner_code"),
    )


class KnowledgeGoal(Base):
    """What the seller means to learn about a client this year, and how far it got."""

    __tablename__ = "knowledge_goals"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    year: Mapped[int]
    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="open")
    due_date: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (
        UniqueConstraint("company_id", "year", "code"),
        CheckConstraint("status IN ('open', 'in_progress', 'achieved', 'dropped')", name="status"),
    )


class Receivable(Base):
    """The company's debt as ERP last reported it."""

    __tablename__ = "receivables"

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3))
    balance_minor: Mapped[int] = mapped_column(BigInteger)
    overdue_minor: Mapped[int] = mapped_column(BigInteger)
    oldest_overdue_date: Mapped[date | None]
    purchase_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    as_of: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class Statement(AttachedFile, Base):
    """A reconciliation statement (act) from ERP: a document the buyer downloads."""

    __tablename__ = "statements"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    period_from: Mapped[date]
    period_to: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    closing_balance_minor: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_statements_company_period", "company_id", "period_to", "id"),
        UniqueConstraint("company_id", "period_from", "period_to", "sha256"),
    )


# The sales pipeline: a company is a lead before its first order -----------------------------


class PipelineStage(Base):
    """One stage of the seller's pipeline (lead, qualified, first quote, first order, repeat).

    `reached_on` names the fact that moves a company into the stage by itself: a quote
    requested, its first order, a repeat order; null: a manager moves it."""

    __tablename__ = "pipeline_stages"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(unique=True)
    reached_on: Mapped[str | None] = mapped_column(String(32), unique=True)


class CompanyPipeline(Base):
    """Where a company stands in the pipeline, where it came from, and how many orders it
    placed (the first and a repeat order move it)."""

    __tablename__ = "company_pipeline"

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str | None] = mapped_column(String(100))
    stage: Mapped[str | None] = mapped_column(String(64))
    stage_since: Mapped[datetime | None]
    orders_placed: Mapped[int] = mapped_column(default=0, server_default="0")


class StageChange(Base):
    """A company's move from one stage to another, with its time and who moved it."""

    __tablename__ = "stage_changes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    from_stage: Mapped[str | None] = mapped_column(String(64))
    to_stage: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))


# Contacts and the seller's touches with them ----------------------------------------------------


class Interaction(Base):
    """A call, meeting, e-mail or visit of a manager with a client (and one of its contacts),
    what came of it and the next step. It may achieve one of the client's knowledge goals."""

    __tablename__ = "interactions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(100))  # the CRM's id
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    manager_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime]
    outcome: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(String(300))
    next_step_date: Mapped[date | None]
    knowledge_goal_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("knowledge_goals.id", ondelete="SET NULL")
    )
    recorded_by: Mapped[str] = mapped_column(String(100))  # a user id, or the feed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("company_id", "external_id"),
        Index("ix_interactions_company_occurred", "company_id", "occurred_at", "id"),
        Index("ix_interactions_contact_occurred", "contact_id", "occurred_at"),
        CheckConstraint("kind IN ('call', 'meeting', 'email', 'visit')", name="kind"),
    )


class Contact(Base):
    """A person of a client the seller deals with, a portal user or not (then `user_id` links
    the two). `notes` are the seller's own: a client's people never see them."""

    __tablename__ = "contacts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(100))  # the CRM's or ERP's id
    name: Mapped[str] = mapped_column(String(200))
    buying_role: Mapped[str] = mapped_column(String(32), default="other")
    phone: Mapped[str | None] = mapped_column(String(16))  # +digits (domain.contacts.PHONE)
    email: Mapped[str | None] = mapped_column(String(320))
    birthday: Mapped[date | None]
    preferred_channel: Mapped[str | None] = mapped_column(String(16))
    consents_to_messages: Mapped[bool] = mapped_column(default=False)
    consent_given_at: Mapped[datetime | None]
    email_bounced_at: Mapped[datetime | None]
    notes: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Its latest interaction: read with it, never kept apart to drift.
    last_touch_at: Mapped[datetime | None] = column_property(
        select(func.max(Interaction.occurred_at))
        .where(Interaction.contact_id == id)
        .correlate_except(Interaction)
        .scalar_subquery()
    )

    __table_args__ = (
        UniqueConstraint("company_id", "external_id"),
        Index("ix_contacts_company_name_id", "company_id", "name", "id"),
        CheckConstraint(
            "buying_role IN ('decision_maker', 'purchasing', 'technical', 'owner', "
            "'accountant', 'other')",
            name="buying_role",
        ),
        CheckConstraint(
            "preferred_channel IN ('phone', 'email', 'messenger', 'visit')", name="channel"
        ),
    )


def columns_for(shape: type[BaseModel], row: Base) -> dict[str, Any]:
    """The row's columns that `shape` (an event, an answer) has fields of, by name."""
    return {name: getattr(row, name) for name in shape.model_fields if hasattr(row, name)}
