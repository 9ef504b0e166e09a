"""The contacts' and interactions' use cases called as functions with a session, no HTTP: what
a client's people see, the version a change needs, a goal achieved in the interaction's own
transaction (and not at all when the interaction is refused), the events each write leaves."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.accounts.store.models import Interaction, KnowledgeGoal
from services.accounts.usecases import companies as company_usecases
from services.accounts.usecases import contacts, interactions, knowledge_goals
from shared.auth import Role
from shared.pagination import EVERY
from shared.problems import NotFound, PreconditionFailed, Unprocessable
from shared.testing.fixtures import principal
from tests.accounts.factories import add_user
from tests.accounts.usecase_helpers import recorded

ADMIN = principal(Role.ADMIN)
MARCH = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
async def client_of(accounts, ctx):
    """A client assigned to a sales manager, with a buyer: (company id, manager, buyer)."""
    manager = await add_user(accounts, "olga@seller.example", staff_role="sales_manager")
    async with ctx.sessionmaker() as session, session.begin():
        view = await company_usecases.create_company(
            session,
            ADMIN,
            {"legal_name": "Alpha", "sales_manager_id": manager},
            names_manager=True,
        )
    company_id = view.company.id
    buyer = await add_user(accounts, "anna@alpha.example", companies={company_id: "buyer"})
    as_manager = principal(Role.SALES_MANAGER, subject=manager)
    as_buyer = principal(Role.BUYER, subject=buyer, company_id=company_id)
    return company_id, as_manager, as_buyer


async def test_a_buyer_sees_a_contact_without_notes_or_last_touch(ctx, client_of):
    company_id, manager, buyer = client_of
    async with ctx.sessionmaker() as session, session.begin():
        made = await contacts.create_contact(
            session, manager, company_id, {"name": "Pavel", "notes": "Internal"}
        )
        await interactions.record_interaction(
            session,
            manager,
            company_id,
            {"kind": "call", "occurred_at": MARCH, "contact_id": made.contact.id},
        )
    async with ctx.sessionmaker() as session:
        as_buyer = await contacts.get_contact(session, buyer, company_id, made.contact.id)
        as_staff = await contacts.get_contact(session, manager, company_id, made.contact.id)
        listed, _ = await contacts.list_contacts(session, buyer, ctx.settings, company_id, EVERY)
    assert (as_buyer.notes, as_buyer.last_touch_at) == (None, None)
    assert (as_staff.notes, as_staff.last_touch_at) == ("Internal", MARCH)
    assert [(v.notes, v.last_touch_at) for v in listed] == [(None, None)]
    async with ctx.sessionmaker() as session:
        events = await recorded(session, "contact.upserted")
    assert [e["name"] for e in events] == ["Pavel"] and "notes" not in events[0]


async def test_a_change_names_the_version_it_read(ctx, client_of):
    company_id, manager, _ = client_of
    async with ctx.sessionmaker() as session, session.begin():
        made = await contacts.create_contact(session, manager, company_id, {"name": "Pavel"})
    contact_id = made.contact.id
    async with ctx.sessionmaker() as session, session.begin():
        changed = await contacts.update_contact(
            session, manager, company_id, contact_id, '"v1"', {"consents_to_messages": True}
        )
    assert changed.contact.version == 2 and changed.contact.consent_given_at is not None
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(PreconditionFailed):
            await contacts.update_contact(
                session, manager, company_id, contact_id, '"v1"', {"name": "Lost update"}
            )
    async with ctx.sessionmaker() as session, session.begin():
        withdrawn = await contacts.update_contact(
            session, manager, company_id, contact_id, '"v2"', {"consents_to_messages": False}
        )
    assert (withdrawn.contact.name, withdrawn.contact.consent_given_at) == ("Pavel", None)


async def test_an_interaction_achieves_its_goal_in_its_own_transaction(ctx, client_of):
    company_id, manager, _ = client_of
    async with ctx.sessionmaker() as session, session.begin():
        goal = await knowledge_goals.set_goal(
            session, ADMIN, company_id, 2026, "owner", {"title": "Meet the owner"}
        )
    refused = {"kind": "meeting", "occurred_at": MARCH, "knowledge_goal_id": goal.id}
    async with ctx.sessionmaker() as session:
        async with session.begin():
            with pytest.raises(Unprocessable) as bad:
                await interactions.record_interaction(
                    session, manager, company_id, {**refused, "contact_id": uuid.uuid4()}
                )
        assert [e.field for e in bad.value.errors] == ["contact_id"]
        assert (await session.get(KnowledgeGoal, goal.id)).status == "open"
    async with ctx.sessionmaker() as session, session.begin():
        done = await interactions.record_interaction(session, manager, company_id, refused)
    async with ctx.sessionmaker() as session:
        ticked = await session.get(KnowledgeGoal, goal.id)
        assert (ticked.status, ticked.updated_by) == ("achieved", manager.user_id)
        events = await recorded(session, "interaction.recorded")
    assert [(e["interaction_id"], e["knowledge_goal_id"]) for e in events] == [
        (str(done.id), str(goal.id))
    ]


async def test_a_removed_contacts_interactions_stay_without_it(ctx, client_of):
    company_id, manager, buyer = client_of
    async with ctx.sessionmaker() as session, session.begin():
        made = await contacts.create_contact(session, buyer, company_id, {"name": "Pavel"})
        touch = await interactions.record_interaction(
            session,
            manager,
            company_id,
            {"kind": "visit", "occurred_at": MARCH, "contact_id": made.contact.id},
        )
    async with ctx.sessionmaker() as session, session.begin():
        await contacts.remove_contact(session, buyer, company_id, made.contact.id)
    async with ctx.sessionmaker() as session:
        kept = await session.get(Interaction, touch.id)
        assert kept is not None and kept.contact_id is None
        with pytest.raises(NotFound):
            await contacts.get_contact(session, manager, company_id, made.contact.id)
        removed = await recorded(session, "contact.removed")
    assert [e["contact_id"] for e in removed] == [str(made.contact.id)]
