"""A client's contacts: the people the seller deals with, portal users or not. The client's
own people and the staff who reach the client keep them (`access.visible_company`); the
seller's notes are staff's alone, and so is what the interactions tell (the last touch, which
contacts are stale). Every write gives the contact a new version (its ETag) and tells other
services (`contact.upserted`, `contact.removed`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.domain.contacts import birthday_problem, consent_given_at
from services.accounts.settings import Settings
from services.accounts.store import contacts as store
from services.accounts.store.models import Contact
from services.accounts.usecases.access import CLIENTS, check_if_match, visible_company
from shared.auth import Principal
from shared.clock import today, utcnow
from shared.pagination import PageParams, paginate
from shared.problems import Conflict, FieldError, Forbidden, NotFound, Unprocessable


@dataclass(frozen=True)
class ContactView:
    """A contact as the caller may see it: a client's people get neither the notes nor the
    last touch (None)."""

    contact: Contact
    notes: str | None
    last_touch_at: datetime | None


def _view(principal: Principal, contact: Contact) -> ContactView:
    if principal.is_staff:
        return ContactView(contact, contact.notes, contact.last_touch_at)
    return ContactView(contact, None, None)


async def _contact(
    session: AsyncSession,
    principal: Principal,
    company_id: uuid.UUID,
    contact_id: uuid.UUID,
    *,
    lock: bool = False,
) -> Contact:
    await visible_company(session, principal, company_id)
    found = await store.contact(session, company_id, contact_id, lock=lock)
    if found is None:
        raise NotFound("No such contact.")
    return found


async def _set(
    session: AsyncSession, principal: Principal, contact: Contact, values: dict[str, Any]
) -> None:
    """Sets the fields in `values` on the contact after checking them; every bad one named."""
    errors = []
    if "notes" in values and not principal.is_staff:
        errors.append(FieldError(field="notes", message="only the seller's staff keep notes"))
    birthday = values.get("birthday")
    problem = birthday_problem(birthday, today()) if birthday else None
    if problem:
        errors.append(FieldError(field="birthday", message=problem))
    user_id = values.get("user_id")
    if user_id is not None and not await store.is_member(session, contact.company_id, user_id):
        errors.append(FieldError(field="user_id", message="is not a person of this client"))
    if errors:
        raise Unprocessable("The contact has invalid fields.", errors=errors)

    values = dict(values)
    if "email" in values and values["email"] != contact.email:
        # A new address has not bounced (unless the caller says it has).
        values.setdefault("email_bounced_at", None)
    if "consents_to_messages" in values:
        values["consent_given_at"] = consent_given_at(
            values["consents_to_messages"],
            bool(contact.consents_to_messages),
            contact.consent_given_at,
            utcnow(),
        )
    for name, value in values.items():
        setattr(contact, name, value)
    contact.updated_at = utcnow()


async def _saved(session: AsyncSession, contact: Contact) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("The client has a contact with this external_id.") from exc
    await session.refresh(contact)  # its last touch is read with it
    store.record_contact_upserted(session, contact)


def _stale(settings: Settings) -> tuple[datetime, int]:
    return utcnow(), settings.stale_contact_months


async def _page(
    session: AsyncSession, principal: Principal, stmt: Select[tuple[Contact]], page: PageParams
) -> tuple[list[ContactView], str | None]:
    rows, cursor = await paginate(session, stmt, store.CONTACT_ORDER, page)
    return [_view(principal, c) for c in rows], cursor


async def list_contacts(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    company_id: uuid.UUID,
    page: PageParams,
    *,
    stale: bool = False,
) -> tuple[list[ContactView], str | None]:
    """The client's contacts by name; `stale`: those the seller has not touched in
    `stale_contact_months` (or whose e-mail bounced), staff only."""
    await visible_company(session, principal, company_id)
    if stale and not principal.is_staff:
        raise Forbidden("Only the seller's staff see which contacts are stale.")
    stmt = store.contacts_query(company_id=company_id, stale=_stale(settings) if stale else None)
    return await _page(session, principal, stmt, page)


async def stale_contacts(
    session: AsyncSession, principal: Principal, settings: Settings, page: PageParams
) -> tuple[list[ContactView], str | None]:
    """The stale contacts of every client the caller reaches (a manager's work queue)."""
    stmt = CLIENTS.narrow(
        store.contacts_query(stale=_stale(settings)), Contact.company_id, principal
    )
    return await _page(session, principal, stmt, page)


async def create_contact(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID, values: dict[str, Any]
) -> ContactView:
    await visible_company(session, principal, company_id)
    contact = Contact(company_id=company_id)
    await _set(session, principal, contact, values)
    session.add(contact)
    await _saved(session, contact)
    return _view(principal, contact)


async def get_contact(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID, contact_id: uuid.UUID
) -> ContactView:
    return _view(principal, await _contact(session, principal, company_id, contact_id))


async def update_contact(
    session: AsyncSession,
    principal: Principal,
    company_id: uuid.UUID,
    contact_id: uuid.UUID,
    if_match: str | None,
    changes: dict[str, Any],
) -> ContactView:
    """Only the fields in `changes` change; the caller names the version it read."""
    contact = await _contact(session, principal, company_id, contact_id, lock=True)
    check_if_match(if_match, contact.version, "contact")
    await _set(session, principal, contact, changes)
    contact.version += 1
    await _saved(session, contact)
    return _view(principal, contact)


async def remove_contact(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID, contact_id: uuid.UUID
) -> None:
    """Its interactions stay, without it."""
    contact = await _contact(session, principal, company_id, contact_id, lock=True)
    await session.delete(contact)
    await session.flush()
    store.record_contact_removed(session, contact, utcnow())
