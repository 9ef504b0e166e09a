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


@register
class ContactUpsertedV1(EventContract):
    """A person of a client was added or changed (API or the CRM's contacts feed): who it is in
    the client's buying, how to reach it, its birthday and consent to messages. A full
    snapshot; the seller's internal notes are never in it."""

    event_type = "contact.upserted.v1"
    topic = COMPANY_TOPIC  # after the company's own events, in order with them
    aggregate_type = "company"
    aggregate_key = "company_id"

    contact_id: uuid.UUID
    company_id: uuid.UUID
    external_id: str | None = Field(description="The CRM's or ERP's id of the contact")
    name: str
    buying_role: str = Field(
        description="decision_maker, purchasing, technical, owner, accountant or other"
    )
    phone: str | None = Field(description="International format, + and digits")
    email: str | None
    birthday: date | None
    preferred_channel: str | None = Field(description="phone, email, messenger or visit")
    consents_to_messages: bool
    consent_given_at: datetime | None
    email_bounced_at: datetime | None = Field(description="Set: mail to `email` bounced")
    user_id: uuid.UUID | None = Field(description="The portal user this contact is, if any")
    version: int
    updated_at: datetime


@register
class ContactRemovedV1(EventContract):
    """A person of a client was removed: consumers forget it (its interactions stay, without
    it)."""

    event_type = "contact.removed.v1"
    topic = COMPANY_TOPIC
    aggregate_type = "company"
    aggregate_key = "company_id"

    contact_id: uuid.UUID
    company_id: uuid.UUID
    removed_at: datetime


@register
class InteractionRecordedV1(EventContract):
    """A manager's call, meeting, e-mail or visit with a client was recorded (API or the CRM's
    interactions feed), or the CRM changed one it sent before (the same `interaction_id`).
    What was said stays in accounts: the event has the facts and the next step."""

    event_type = "interaction.recorded.v1"
    topic = COMPANY_TOPIC
    aggregate_type = "company"
    aggregate_key = "company_id"

    interaction_id: uuid.UUID
    company_id: uuid.UUID
    contact_id: uuid.UUID | None
    manager_id: uuid.UUID
    kind: str = Field(description="call, meeting, email or visit")
    occurred_at: datetime
    next_step: str | None
    next_step_date: date | None
    knowledge_goal_id: uuid.UUID | None = Field(
        description="The client's knowledge goal the interaction achieved, if any"
    )


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
