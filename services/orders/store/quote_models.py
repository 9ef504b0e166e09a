"""Tables of quotes (RFQ): the quote, its lines and its conversation. Beside `models.py`, on
the same Base (so in the same metadata the migrations compare with)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from services.orders.store.models import Base, LineColumns
from shared.clock import utcnow

QUOTE_STATUSES = ("requested", "offered", "changes_requested", "accepted", "declined")


class Quote(Base):
    """A request for quote: the buyer's cart as it was, the manager's offer on it, and whether
    it became an order. `revision` counts offers; opening is recorded per revision."""

    __tablename__ = "quotes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    company_id: Mapped[uuid.UUID]
    requested_by: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="requested")
    currency: Mapped[str] = mapped_column(String(3))
    revision: Mapped[int] = mapped_column(default=0)
    valid_until: Mapped[date | None]
    offered_by: Mapped[str | None] = mapped_column(String(100))
    offered_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]  # first look by the client at the current revision
    order_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in QUOTE_STATUSES) + ")",
            name="status_known",
        ),
        Index("ix_quotes_company_created", "company_id", text("created_at DESC"), "id"),
    )


class QuoteLine(LineColumns, Base):
    __tablename__ = "quote_lines"

    quote_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("quotes.id", ondelete="CASCADE"), primary_key=True
    )
    list_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    client_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    client_price_rule: Mapped[str] = mapped_column(String(200))
    quoted_price_minor: Mapped[int | None] = mapped_column(BigInteger)


class QuoteStep(Base):
    """The quote's conversation and audit trail: who asked, offered, opened, accepted, when."""

    __tablename__ = "quote_steps"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    quote_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("quotes.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(20))
    revision: Mapped[int]
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]
    message: Mapped[str | None] = mapped_column(Text)
