"""Events the accounts service publishes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.events.envelope import EventContract, register

COMPANY_TOPIC = "accounts.company"


@register
class CompanyUpsertedV1(EventContract):
    """A client company was created or its master data changed (API or ERP client feed)."""

    event_type = "company.upserted.v1"
    topic = COMPANY_TOPIC
    aggregate_type = "company"
    aggregate_key = "company_id"

    company_id: uuid.UUID
    external_id: str | None
    legal_name: str
    tax_id: str | None
    industry: str | None
    client_type: str | None
    client_group: str | None
    sales_manager_id: uuid.UUID | None
    credit_limit_minor: int | None
    currency: str
    payment_terms_days: int
    status: str
    updated_at: datetime
    card: dict[str, Any] = Field(
        default_factory=dict,
        description="The client card's fields (size, purchase potential...), by field key",
    )
    partners: list[str] = Field(
        default_factory=list,
        description="Marketplace partners the client is registered with (pricing serves each "
        "its resolved prices)",
    )
    preferred_warehouse: str | None = Field(
        None,
        description="The warehouse (catalog's code) the client's orders take stock from first",
    )


@register
class CompanyCreditChangedV1(EventContract):
    """The company's credit standing changed: its credit limit, or its receivables from ERP."""

    event_type = "company.credit_changed.v1"
    topic = COMPANY_TOPIC
    aggregate_type = "company"
    aggregate_key = "company_id"

    company_id: uuid.UUID
    currency: str
    credit_limit_minor: int | None
    balance_minor: int
    overdue_minor: int
    oldest_overdue_date: date | None
    purchase_limit_minor: int | None
    available_credit_minor: int | None
    changed_at: datetime


@register
class CompanyStageChangedV1(EventContract):
    """A company moved to another stage of the sales pipeline (lead, qualified, first quote,
    first order, repeat, as the seller configured it): set by a manager, or reached by a quote
    requested or an order placed. `position` orders the stages; a lead is a company before its
    first order, with the `source` it came from."""

    event_type = "company.stage_changed.v1"
    topic = COMPANY_TOPIC
    aggregate_type = "company"
    aggregate_key = "company_id"

    company_id: uuid.UUID
    source: str | None = Field(description="Where the lead came from (exhibition, website...)")
    from_stage: str | None
    to_stage: str
    position: int = Field(description="The stage's place in the pipeline, 1 = first")
    sales_manager_id: uuid.UUID | None
    actor: str = Field(description="A user id, or system when an order or quote moved it")
    changed_at: datetime


# The purpose of an invitation's accept token: `shared.tokens.derived_token(internal secret,
# INVITATION_TOKEN, str(invitation_id))`, computed by accounts and notifications alike.
INVITATION_TOKEN = "invitation"


@register
class InvitationCreatedV1(EventContract):
    """Someone invited a person by e-mail to act for a company (as buyer or company admin):
    notifications e-mails the accept link. The link's token is in no event: accounts and
    notifications each derive it from `invitation_id` (`INVITATION_TOKEN`)."""

    event_type = "invitation.created.v1"
    topic = COMPANY_TOPIC  # after the company's own events: the e-mail names the company
    aggregate_type = "company"
    aggregate_key = "company_id"

    invitation_id: uuid.UUID
    company_id: uuid.UUID
    email: str = Field(description="Whom the invitation is for (lower-case)")
    role: str = Field(description="buyer or company_admin")
    invited_by: uuid.UUID | None = Field(description="The user who invited")
    expires_at: datetime


PERSON_TOPIC = "accounts.person"


class PersonMembership(BaseModel):
    """One company the person acts for, and in which role (buyer or company_admin)."""

    company_id: uuid.UUID
    role: str


@register
class PersonChangedV1(EventContract):
    """A person's contact data, staff role or memberships changed (an invitation accepted, a
    member removed, a staff user created). A full snapshot: consumers replace what they hold."""

    event_type = "person.changed.v1"
    topic = PERSON_TOPIC
    aggregate_type = "person"
    aggregate_key = "user_id"

    user_id: uuid.UUID
    email: str
    name: str
    staff_role: str | None
    active: bool
    memberships: list[PersonMembership]
    changed_at: datetime
