"""The CRM's contacts and interactions feeds through the HTTP API, the durable job and
PostgreSQL: upsert by the client's and the row's ids, bad rows named (all-or-nothing or
skipped), a feed sent again changing nothing, an interaction achieving a knowledge goal."""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta

import polars as pl
from sqlalchemy import select

from services.accounts.store.models import Contact, Interaction, KnowledgeGoal
from shared.clock import today
from shared.contracts.accounts import ContactUpsertedV1, InteractionRecordedV1
from shared.testing.fixtures import client
from tests.accounts.factories import add_company, add_manager, add_user
from tests.accounts.test_companies import outbox
from tests.accounts.test_contacts import add_goal
from tests.accounts.test_feeds import ERP, job, post_feed, run_jobs
from tests.reach import snapshot

CONTACTS = (
    "client_external_id,external_id,name,buying_role,phone,email,birthday,consents_to_messages,"
    "notes,user_email,email_bounced_at\n"
)
INTERACTIONS = (
    "client_external_id,external_id,kind,occurred_at,contact_external_id,manager_email,"
    "outcome,next_step_date,goal_code\n"
)


async def contacts(app) -> dict[str, Contact]:
    """By name (an external id is only unique within its client)."""
    async with app.state.sessionmaker() as session:
        return {c.name: c for c in await session.scalars(select(Contact))}


async def feed(app, kind: str, body: str, **params) -> dict:
    accepted = await post_feed(app, kind, body, **params)
    assert accepted.status_code == 202, accepted.text
    await run_jobs(app)
    return await job(app, accepted.json()["id"])


async def rejections(app, done: dict) -> list[tuple[int, str]]:
    async with client(app, ERP) as http:
        report = await http.get(done["rejections_url"])
    return pl.read_csv(io.BytesIO(report.content)).select("row", "field").rows()


async def two_clients(app) -> dict[str, uuid.UUID]:
    manager, _ = await add_manager(app, "olga@seller.example")
    alpha = await add_company(app, external_id="C-ALPHA", sales_manager_id=str(manager))
    beta = await add_company(app, external_id="C-BETA")
    ids = {"alpha": uuid.UUID(alpha["id"]), "beta": uuid.UUID(beta["id"]), "olga": manager}
    await add_user(app, "anna@alpha.example", companies={ids["alpha"]: "buyer"})
    await add_user(app, "boris@beta.example", companies={ids["beta"]: "buyer"})
    return ids


async def test_contacts_are_upserted_and_the_same_feed_again_changes_nothing(accounts):
    await two_clients(accounts)
    body = (
        CONTACTS + "C-ALPHA,P-1,Pavel Orlov,decision_maker,+7 (495) 123-45-67,pavel@alpha.example,"
        "1975-04-12,true,Golf on Fridays,\n"
        + "C-ALPHA,P-2,Anna Buyer,purchasing,,anna@alpha.example,,,,anna@alpha.example\n"
        + "C-BETA,P-1,Boris,accountant,,,,,,\n"
    )
    first = await feed(accounts, "contacts", body)
    assert first["state"] == "succeeded", first
    assert (first["result"]["created"], first["result"]["events"]) == (3, 3)
    stored = await contacts(accounts)
    pavel = stored["Pavel Orlov"]
    assert (pavel.phone, pavel.birthday, pavel.consents_to_messages) == (
        "+74951234567",
        date(1975, 4, 12),
        True,
    )
    assert pavel.consent_given_at is not None and pavel.notes == "Golf on Fridays"
    assert stored["Anna Buyer"].user_id is not None and stored["Boris"].user_id is None
    before = await snapshot(accounts, "contacts", "outbox")

    again = await feed(accounts, "contacts", body)
    assert (again["result"]["unchanged"], again["result"]["events"]) == (3, 0)
    assert await snapshot(accounts, "contacts", "outbox") == before

    # An empty cell keeps the value; a changed one makes a new version and one event.
    third = await feed(accounts, "contacts", CONTACTS + "C-ALPHA,P-1,Pavel Orlov,owner,,,,,,\n")
    assert (third["result"]["updated"], third["result"]["events"]) == (1, 1)
    assert (await contacts(accounts))["Pavel Orlov"].notes == "Golf on Fridays"
    events = await outbox(accounts, ContactUpsertedV1.full_type())
    assert len(events) == 4 and "Golf" not in str(events)
    last = ContactUpsertedV1.model_validate(events[-1]["data"])
    assert (last.buying_role, last.phone, last.version) == ("owner", "+74951234567", 2)


async def test_bad_contact_rows_are_named_and_all_or_nothing_applies_none(accounts):
    await two_clients(accounts)
    tomorrow = (today() + timedelta(days=1)).isoformat()
    later = (today() + timedelta(days=3)).isoformat()  # beyond a day's clock skew
    body = (
        CONTACTS
        + "C-ALPHA,P-1,Good,,,,,,,\n"
        + "C-NONE,P-2,Unknown client,,,,,,,\n"  # row 2
        + f"C-ALPHA,P-3,Born tomorrow,,,,{tomorrow},,,\n"  # row 3
        + "C-ALPHA,P-4,Bad phone,,8-800-CALL,,,,,\n"  # row 4
        + "C-ALPHA,P-5,Bad email,,,pavel at alpha,,,,\n"  # row 5
        + "C-ALPHA,P-6,Beta's buyer,,,,,,,boris@beta.example\n"  # row 6: another client's
        + "C-ALPHA,P-7,Bad role,cfo,,,1899-12-31,,,\n"  # row 7
        + f"C-ALPHA,P-8,Bounced in 3 days,,,,,,,,{later}T12:00:00Z\n"  # row 8
    )
    rejected = await feed(accounts, "contacts", body)
    assert (rejected["state"], rejected["rows_applied"]) == ("rejected", 0)
    assert await contacts(accounts) == {}
    assert await rejections(accounts, rejected) == [
        (2, "client_external_id"),
        (3, "birthday"),
        (4, "phone"),
        (5, "email"),
        (6, "user_email"),
        (7, "birthday"),
        (7, "buying_role"),
        (8, "email_bounced_at"),
    ]
    skipped = await feed(accounts, "contacts", body, mode="skip_bad_rows")
    assert (skipped["state"], skipped["rows_applied"]) == ("succeeded", 1)
    assert list(await contacts(accounts)) == ["Good"]


async def test_interactions_are_recorded_once_and_one_achieves_its_goal(accounts):
    ids = await two_clients(accounts)
    await feed(accounts, "contacts", CONTACTS + "C-ALPHA,P-1,Pavel,,,,,,,\n")
    goal = await add_goal(accounts, ids["alpha"], "decision-maker", 2026)
    body = (
        INTERACTIONS
        + "C-ALPHA,I-1,meeting,2026-03-02T09:30:00Z,P-1,,Met the owner,2026-03-10,decision-maker\n"
        + "C-ALPHA,I-2,call,2026-04-01T08:00:00+03:00,P-1,olga@seller.example,,,\n"
    )
    first = await feed(accounts, "interactions", body)
    assert first["state"] == "succeeded", first
    assert (first["result"]["created"], first["result"]["events"]) == (2, 2)
    async with accounts.state.sessionmaker() as session:
        stored = {i.external_id: i for i in await session.scalars(select(Interaction))}
        achieved = await session.get(KnowledgeGoal, uuid.UUID(goal["id"]))
        pavel = await session.scalar(select(Contact))
    assert achieved.status == "achieved" and achieved.updated_by == ids["olga"]
    assert stored["I-1"].manager_id == ids["olga"]  # the client's manager by default
    assert stored["I-1"].knowledge_goal_id == achieved.id
    assert stored["I-2"].contact_id == pavel.id
    assert pavel.last_touch_at == stored["I-2"].occurred_at
    events = await outbox(accounts, InteractionRecordedV1.full_type())
    assert {InteractionRecordedV1.model_validate(e["data"]).kind for e in events} == {
        "meeting",
        "call",
    }
    assert "Met the owner" not in str(events)

    before = await snapshot(accounts, "interactions", "knowledge_goals", "outbox")
    again = await feed(accounts, "interactions", body)
    assert (again["result"]["unchanged"], again["result"]["events"]) == (2, 0)
    assert await snapshot(accounts, "interactions", "knowledge_goals", "outbox") == before


async def test_bad_interaction_rows_are_named_and_change_nothing(accounts):
    ids = await two_clients(accounts)
    await feed(accounts, "contacts", CONTACTS + "C-BETA,P-9,Boris,,,,,,,\n")
    await add_goal(accounts, ids["alpha"], "visit", 2026)
    future = (today() + timedelta(days=5)).isoformat()
    body = (
        INTERACTIONS
        + "C-ALPHA,I-1,call,2026-03-02T09:30:00Z,,,,,\n"  # row 1: good
        + "C-ALPHA,I-2,call,2026-03-02T09:30:00Z,P-9,,,,\n"  # row 2: Beta's contact
        + "C-ALPHA,I-3,call,2026-03-02T09:30:00Z,,,,,nosuchgoal\n"  # row 3
        + "C-ALPHA,I-4,call,2025-06-02T09:30:00Z,,,,,visit\n"  # row 4: not a goal of 2025
        + "C-BETA,I-5,call,2026-03-02T09:30:00Z,P-9,,,,\n"  # row 5: Beta has no manager
        + "C-ALPHA,I-6,call,2026-03-02T09:30:00Z,,anna@alpha.example,,,\n"  # row 6: not staff
        + f"C-ALPHA,I-7,call,{future}T09:00:00Z,,,,,\n"  # row 7: not happened yet
        + "C-ALPHA,I-8,fax,2026-03-02T09:30:00Z,,,,2026-03-01,\n"  # row 8
    )
    before = await snapshot(accounts, "interactions", "knowledge_goals", "outbox")
    rejected = await feed(accounts, "interactions", body)
    assert rejected["state"] == "rejected"
    assert await snapshot(accounts, "interactions", "knowledge_goals", "outbox") == before
    assert await rejections(accounts, rejected) == [
        (2, "contact_external_id"),
        (3, "goal_code"),
        (4, "goal_code"),
        (5, "manager_email"),
        (6, "manager_email"),
        (7, "occurred_at"),
        (8, "kind"),
        (8, "next_step_date"),
    ]
