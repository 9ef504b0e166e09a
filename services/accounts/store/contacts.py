"""Queries on a client's contacts and the interactions with them, and the events their writes
record."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Select, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.store.models import (
    Contact,
    Interaction,
    KnowledgeGoal,
    Membership,
    columns_for,
)
from shared.contracts.accounts import ContactRemovedV1, ContactUpsertedV1, InteractionRecordedV1
from shared.events.outbox import record_event
from shared.pagination import PageParams, paginate

# Contacts are listed by client, then name.
CONTACT_ORDER = [Contact.company_id, Contact.name, Contact.id]


def contacts_query(
    *, company_id: uuid.UUID | None = None, stale: tuple[datetime, int] | None = None
) -> Select[tuple[Contact]]:
    """Contacts (of one company, or of every one). With `stale` (now, months): only those
    whose e-mail bounced, or last touched (never touched: added) more than `months` calendar
    months before `now`."""
    stmt = select(Contact)
    if company_id is not None:
        stmt = stmt.where(Contact.company_id == company_id)
    if stale is not None:
        now, months = stale
        since = literal(now, DateTime(timezone=True)) - func.make_interval(0, months)
        touched = func.coalesce(Contact.last_touch_at, Contact.created_at)
        stmt = stmt.where(or_(Contact.email_bounced_at.is_not(None), touched < since))
    return stmt


async def contact(
    session: AsyncSession, company_id: uuid.UUID, contact_id: uuid.UUID, *, lock: bool = False
) -> Contact | None:
    """The company's contact; another company's is none of its."""
    stmt = select(Contact).where(Contact.id == contact_id, Contact.company_id == company_id)
    if lock:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def is_member(session: AsyncSession, company_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    found = await session.get(Membership, (user_id, company_id))
    return found is not None


async def goal(
    session: AsyncSession, company_id: uuid.UUID, goal_id: uuid.UUID
) -> KnowledgeGoal | None:
    found = await session.get(KnowledgeGoal, goal_id, with_for_update=True)
    return found if found is not None and found.company_id == company_id else None


async def interactions(
    session: AsyncSession,
    company_id: uuid.UUID,
    page: PageParams,
    contact_id: uuid.UUID | None = None,
) -> tuple[list[Interaction], str | None]:
    """The company's interactions, latest first."""
    stmt = select(Interaction).where(Interaction.company_id == company_id)
    if contact_id is not None:
        stmt = stmt.where(Interaction.contact_id == contact_id)
    keys = [Interaction.occurred_at, Interaction.id]
    return await paginate(session, stmt, keys, page, newest_first=True)


async def interaction(
    session: AsyncSession, company_id: uuid.UUID, interaction_id: uuid.UUID
) -> Interaction | None:
    found = await session.get(Interaction, interaction_id)
    return found if found is not None and found.company_id == company_id else None


# Events --------------------------------------------------------------------------------------


def record_contact_upserted(session: AsyncSession, contact: Contact) -> None:
    columns = columns_for(ContactUpsertedV1, contact)
    record_event(session, ContactUpsertedV1.model_validate({**columns, "contact_id": contact.id}))


def record_contact_removed(session: AsyncSession, contact: Contact, at: datetime) -> None:
    record_event(
        session,
        ContactRemovedV1(contact_id=contact.id, company_id=contact.company_id, removed_at=at),
    )


def record_interaction(session: AsyncSession, interaction: Interaction) -> None:
    columns = columns_for(InteractionRecordedV1, interaction)
    record_event(
        session,
        InteractionRecordedV1.model_validate({**columns, "interaction_id": interaction.id}),
    )
