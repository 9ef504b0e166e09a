"""A client's contacts and the seller's interactions with them: the routes and their bodies;
the flows are in `usecases/contacts.py` and `usecases/interactions.py`."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import AfterValidator, BaseModel, EmailStr, Field, StringConstraints, field_validator

from services.accounts.api.access import IF_MATCH_RESPONSES, IfMatch, set_etag
from services.accounts.api.deps import CollaboratorsDep
from services.accounts.api.schemas import Read
from services.accounts.domain.contacts import PHONE, normalise_phone
from services.accounts.usecases import contacts as usecase
from services.accounts.usecases import interactions
from services.accounts.usecases.access import CLIENT_ROLES, PEOPLE, STAFF
from shared.auth import allow
from shared.db import SessionDep
from shared.fields import BusinessDate, PastTimestamp, Reference, line, multiline
from shared.links import public_path
from shared.pagination import Page, PageDep

router = APIRouter(tags=["contacts"])
pages = APIRouter(tags=["contacts"])

BuyingRole = Literal["decision_maker", "purchasing", "technical", "owner", "accountant", "other"]
Channel = Literal["phone", "email", "messenger", "visit"]
InteractionKind = Literal["call", "meeting", "email", "visit"]
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=40, pattern=f"^{PHONE}$"),
    AfterValidator(normalise_phone),
    Field(description="International format (+, country code, number); kept as + and digits"),
]
NOTES = "Internal: the seller's staff only; a client's people neither see nor send them"


class ContactFields(BaseModel):
    external_id: Reference | None = Field(None, description="The CRM's or ERP's id")
    buying_role: BuyingRole = "other"
    phone: Phone | None = None
    email: EmailStr | None = None
    birthday: date | None = Field(None, description="Not in the future")
    preferred_channel: Channel | None = None
    consents_to_messages: bool = Field(
        False, description="Agrees to messages; when it was given is kept (consent_given_at)"
    )
    email_bounced_at: PastTimestamp | None = Field(
        None, description="When mail to `email` bounced; a new email clears it"
    )
    notes: multiline(4000) | None = Field(None, description=NOTES)
    user_id: uuid.UUID | None = Field(None, description="The portal user of the client it is")


class ContactCreate(ContactFields):
    name: line(200, min_length=1)


class ContactUpdate(BaseModel):
    """Only the fields sent change; send If-Match with the ETag you read."""

    name: line(200, min_length=1) | None = None
    external_id: Reference | None = None
    buying_role: BuyingRole | None = None
    phone: Phone | None = None
    email: EmailStr | None = None
    birthday: date | None = None
    preferred_channel: Channel | None = None
    consents_to_messages: bool | None = None
    email_bounced_at: PastTimestamp | None = None
    notes: multiline(4000) | None = Field(None, description=NOTES)
    user_id: uuid.UUID | None = None

    @field_validator("name", "buying_role", "consents_to_messages")
    @classmethod
    def _kept(cls, value: object) -> object:
        # Only a value sent is checked: these may be left out, not cleared.
        if value is None:
            raise ValueError("may be left out but not null")
        return value


class ContactRead(Read):
    id: uuid.UUID
    company_id: uuid.UUID
    external_id: str | None
    name: str
    buying_role: BuyingRole
    phone: str | None
    email: str | None
    birthday: date | None
    preferred_channel: Channel | None
    consents_to_messages: bool
    consent_given_at: datetime | None
    email_bounced_at: datetime | None
    notes: str | None = Field(description="Staff only: null for a client's people")
    user_id: uuid.UUID | None
    last_touch_at: datetime | None = Field(
        description="Its latest interaction (staff only: null for a client's people)"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class InteractionCreate(BaseModel):
    kind: InteractionKind
    occurred_at: PastTimestamp
    contact_id: uuid.UUID | None = Field(None, description="A contact of this client")
    manager_id: uuid.UUID | None = Field(None, description="Default: you")
    outcome: multiline(4000) | None = None
    next_step: line(300) | None = None
    next_step_date: BusinessDate | None = None
    knowledge_goal_id: uuid.UUID | None = Field(
        None, description="A knowledge goal of this client the interaction achieved"
    )


class InteractionRead(Read):
    id: uuid.UUID
    company_id: uuid.UUID
    external_id: str | None = Field(description="The CRM's id, when it came from the feed")
    kind: InteractionKind
    occurred_at: datetime
    contact_id: uuid.UUID | None
    manager_id: uuid.UUID
    outcome: str | None
    next_step: str | None
    next_step_date: date | None
    knowledge_goal_id: uuid.UUID | None
    created_at: datetime


def _read(view: usecase.ContactView, response: Response | None = None) -> ContactRead:
    if response is not None:
        set_etag(response, view.contact.version)
    read = ContactRead.model_validate(view.contact)
    read.notes, read.last_touch_at = view.notes, view.last_touch_at
    return read


WRITERS = (*CLIENT_ROLES, *STAFF)


@pages.get(
    "/companies/{company_id}/contacts",
    summary="The client's contacts, by name",
    description="`stale=true` (staff only): those with no interaction in "
    "`ACCOUNTS_STALE_CONTACT_MONTHS` months (never touched: since they were added) or whose "
    "e-mail bounced.",
)
async def list_contacts(
    company_id: uuid.UUID,
    session: SessionDep,
    ctx: CollaboratorsDep,
    principal: allow(*PEOPLE),
    page: PageDep,
    stale: Annotated[bool, Query(description="Only the stale ones (staff only)")] = False,
) -> Page[ContactRead]:
    found = await usecase.list_contacts(
        session, principal, ctx.settings, company_id, page, stale=stale
    )
    return Page.of(found, _read)


@pages.get(
    "/contacts/stale",
    summary="The stale contacts of every client you reach, by client and name (staff only)",
    description="Those with no interaction in `ACCOUNTS_STALE_CONTACT_MONTHS` months (never "
    "touched: since they were added) or whose e-mail bounced: a sales manager's of its "
    "assigned clients.",
)
async def stale_contacts(
    session: SessionDep, ctx: CollaboratorsDep, principal: allow(*STAFF), page: PageDep
) -> Page[ContactRead]:
    return Page.of(await usecase.stale_contacts(session, principal, ctx.settings, page), _read)


@router.post(
    "/companies/{company_id}/contacts",
    status_code=201,
    summary="Add a contact",
    responses={409: {"description": "The client has a contact with this external_id"}},
)
async def create_contact(
    company_id: uuid.UUID,
    body: ContactCreate,
    request: Request,
    session: SessionDep,
    response: Response,
    principal: allow(*WRITERS),
) -> ContactRead:
    view = await usecase.create_contact(
        session, principal, company_id, body.model_dump(exclude_unset=True)
    )
    response.headers["Location"] = public_path(
        request, "get_contact", company_id=str(company_id), contact_id=str(view.contact.id)
    )
    return _read(view, response)


@router.get(
    "/companies/{company_id}/contacts/{contact_id}",
    summary="One contact; its ETag guards updates",
)
async def get_contact(
    company_id: uuid.UUID,
    contact_id: uuid.UUID,
    session: SessionDep,
    response: Response,
    principal: allow(*PEOPLE),
) -> ContactRead:
    view = await usecase.get_contact(session, principal, company_id, contact_id)
    return _read(view, response)


@router.patch(
    "/companies/{company_id}/contacts/{contact_id}",
    summary="Change a contact (If-Match required)",
    responses={**IF_MATCH_RESPONSES, 409: {"description": "Another contact has this external_id"}},
)
async def update_contact(
    company_id: uuid.UUID,
    contact_id: uuid.UUID,
    body: ContactUpdate,
    session: SessionDep,
    response: Response,
    principal: allow(*WRITERS),
    if_match: IfMatch = None,
) -> ContactRead:
    changes = body.model_dump(exclude_unset=True)
    view = await usecase.update_contact(
        session, principal, company_id, contact_id, if_match, changes
    )
    return _read(view, response)


@router.delete(
    "/companies/{company_id}/contacts/{contact_id}",
    status_code=204,
    summary="Remove a contact (its interactions stay, without it)",
)
async def delete_contact(
    company_id: uuid.UUID,
    contact_id: uuid.UUID,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> Response:
    await usecase.remove_contact(session, principal, company_id, contact_id)
    return Response(status_code=204)


# Interactions: the seller's own record. Staff only: a client's people see none.


@pages.get(
    "/companies/{company_id}/interactions",
    summary="The seller's interactions with the client, latest first (staff only)",
)
async def list_interactions(
    company_id: uuid.UUID,
    session: SessionDep,
    principal: allow(*STAFF),
    page: PageDep,
    contact_id: uuid.UUID | None = None,
) -> Page[InteractionRead]:
    found = await interactions.interactions(session, principal, company_id, page, contact_id)
    return Page.of(found, InteractionRead.model_validate)


@router.post(
    "/companies/{company_id}/interactions",
    status_code=201,
    summary="Record a call, meeting, e-mail or visit (staff only)",
    description="It may achieve a knowledge goal of the client (`knowledge_goal_id`): the goal "
    "is marked achieved with it.",
)
async def record_interaction(
    company_id: uuid.UUID,
    body: InteractionCreate,
    request: Request,
    session: SessionDep,
    response: Response,
    principal: allow(*STAFF),
) -> InteractionRead:
    done = await interactions.record_interaction(session, principal, company_id, body.model_dump())
    response.headers["Location"] = public_path(
        request, "get_interaction", company_id=str(company_id), interaction_id=str(done.id)
    )
    return InteractionRead.model_validate(done)


@router.get(
    "/companies/{company_id}/interactions/{interaction_id}",
    summary="One interaction (staff only)",
)
async def get_interaction(
    company_id: uuid.UUID,
    interaction_id: uuid.UUID,
    session: SessionDep,
    principal: allow(*STAFF),
) -> InteractionRead:
    found = await interactions.get_interaction(session, principal, company_id, interaction_id)
    return InteractionRead.model_validate(found)
