"""Tables of the notifications service (its own database; no other service reads them)."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.clock import utcnow
from shared.db import TableConventions


class Base(TableConventions, DeclarativeBase):
    pass


# Who: projected from accounts (company.upserted, person.changed) and analytics (segments) ------


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(300))
    sales_manager_id: Mapped[uuid.UUID | None]
    client_group: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    segments: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    locale: Mapped[str | None] = mapped_column(String(8))  # the company admin's choice
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class Person(Base):
    __tablename__ = "people"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    staff_role: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class Membership(Base):
    __tablename__ = "memberships"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(32))


# What each person and company chose ----------------------------------------------------------


class RecipientSettings(Base):
    """A person's own settings: language, quiet hours, daily digest instead of single emails."""

    __tablename__ = "recipient_settings"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    quiet_from: Mapped[time | None]
    quiet_to: Mapped[time | None]
    digest: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class PreferenceColumns:
    """A person's or a company's choice for a kind of message on a channel."""

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    enabled: Mapped[bool]


class UserPreference(PreferenceColumns, Base):
    __tablename__ = "user_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class CompanyPreference(PreferenceColumns, Base):
    __tablename__ = "company_preferences"

    company_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


# Rules and templates ------------------------------------------------------------------------


class Rule(Base):
    __tablename__ = "rules"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, server_default="")
    event_type: Mapped[str] = mapped_column(String(200), index=True)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    audience: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    template: Mapped[str] = mapped_column(String(100))
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    dedupe: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    thread: Mapped[str | None] = mapped_column(String(100))
    cancel_on: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    enabled: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    builtin: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class Template(Base):
    __tablename__ = "templates"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    locale: Mapped[str] = mapped_column(String(8), primary_key=True)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    sample: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


# Messages: one per (rule, recipient, dedupe key), the event id unless the rule says otherwise


MESSAGE_STATUSES = (
    "pending",  # waiting for its due time or the worker
    "sent",  # email handed to the SMTP server
    "delivered",  # in the inbox
    "digest",  # waits for the recipient's next digest
    "digested",  # went out inside a digest
    "suppressed",  # the recipient or company turned this kind off
    "cancelled",  # a later event made it moot before it went
    "failed",  # the SMTP server refused it for good
)


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    rule_code: Mapped[str] = mapped_column(String(100))
    event_id: Mapped[uuid.UUID | None]
    event_type: Mapped[str] = mapped_column(String(200))
    dedupe_key: Mapped[str] = mapped_column(String(300))
    recipient_id: Mapped[uuid.UUID]
    company_id: Mapped[uuid.UUID | None]
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(8))
    address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    thread: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    sent_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("rule_code", "recipient_id", "dedupe_key"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in MESSAGE_STATUSES) + ")",
            name="status_known",
        ),
        Index(
            "ix_messages_due",
            "due_at",
            postgresql_where=text("status IN ('pending', 'digest')"),
        ),
        Index("ix_messages_inbox", "recipient_id", "channel", text("created_at DESC"), "id"),
        Index(
            "ix_messages_thread",
            "rule_code",
            "thread",
            postgresql_where=text("status IN ('pending', 'digest')"),
        ),
    )


# Webhooks -------------------------------------------------------------------------------------


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    company_id: Mapped[uuid.UUID | None] = mapped_column(index=True)  # None: every company's
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(200)))
    secret: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, server_default="")
    status: Mapped[str] = mapped_column(String(16), server_default="active")
    failing_since: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (CheckConstraint("status IN ('active', 'paused')", name="status_known"),)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    delivered_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status_known"),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_deliveries_subscription", "subscription_id", text("created_at DESC")),
    )


class WebhookAttempt(Base):
    """The delivery log: one row per call, with what the subscriber answered."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int]


# Surveys --------------------------------------------------------------------------------------


class SurveyResponse(Base):
    """NPS or CSAT a buyer gave through the link in the after-delivery survey."""

    __tablename__ = "survey_responses"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    company_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    subject: Mapped[str] = mapped_column(String(200))  # e.g. order=<id>
    touchpoint: Mapped[str] = mapped_column(String(32))  # delivery
    metric: Mapped[str] = mapped_column(String(8))  # nps, csat
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (
        UniqueConstraint("subject", "user_id", "metric"),
        CheckConstraint(
            "(metric = 'nps' AND score BETWEEN 0 AND 10) OR (metric = 'csat' AND score BETWEEN 1 AND 5)",
            name="score_range",
        ),
    )


class ChurnSurveyResponse(Base):
    """A departing client's answer to the churn questionnaire (one per person and company; a
    second answer replaces the first)."""

    __tablename__ = "churn_survey_responses"

    company_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    main_reason: Mapped[str] = mapped_column(String(16))
    product: Mapped[str | None] = mapped_column(Text)
    service: Mapped[str | None] = mapped_column(Text)
    sale: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
