"""The use cases of people, logins, API keys, revocations and the pipeline called as functions
with a session and their collaborators, no HTTP: what each refuses, what token it gives, what
it leaves in the database and the outbox."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import pytest

from services.accounts.domain.pipeline import Stage
from services.accounts.store.models import Invitation, User
from services.accounts.usecases import api_keys, logins, pipeline, revocations
from services.accounts.usecases import people as usecase
from shared.auth import Role
from shared.clock import utcnow
from shared.pagination import EVERY
from shared.problems import Conflict, NotFound, TooManyRequests, Unauthorized, Unprocessable
from shared.testing.fixtures import principal
from shared.tokens import principal_from_token
from tests.accounts.factories import add_company, add_user
from tests.accounts.usecase_helpers import recorded

ADMIN = principal(Role.ADMIN)
PASSWORD = "secret-password"


async def invited(ctx, company_id, email="new@client.example", role="buyer"):
    async with ctx.sessionmaker() as session, session.begin():
        return await usecase.invite(session, ctx, ADMIN, company_id, email, role)


async def test_a_token_acts_for_the_first_active_company_or_the_one_named(accounts, ctx):
    beta = await add_company(accounts, legal_name="Beta")
    alpha = await add_company(accounts, legal_name="Alpha")
    blocked = await add_company(accounts, legal_name="Aardvark", status="blocked")
    ids = [uuid.UUID(c["id"]) for c in (alpha, beta, blocked)]
    buyer = await add_user(
        accounts, "b@client.example", companies={ids[0]: "company_admin", ids[1]: "buyer"}
    )
    await add_user(accounts, "staff@seller.example", staff_role="sales_manager")
    secret = ctx.settings.jwt_secret.get_secret_value()
    async with ctx.sessionmaker() as session, session.begin():
        first = await logins.login(session, ctx, "B@client.example", PASSWORD)
        assert first.company_id == ids[0]
        assert [m["legal_name"] for m in first.memberships] == ["Alpha", "Beta"]
        assert principal_from_token(first.access_token, secret).roles == {
            Role.COMPANY_ADMIN,
            Role.BUYER,
        }
        switched = await logins.switch_company(session, ctx, buyer, ids[1])
        acting = principal_from_token(switched.access_token, secret)
        assert (acting.company_id, acting.roles) == (ids[1], {Role.BUYER})
        with pytest.raises(NotFound):  # blocked: no token acts for it
            await logins.switch_company(session, ctx, buyer, ids[2])
        staff = await logins.login(session, ctx, "staff@seller.example", PASSWORD)
        assert (staff.company_id, staff.memberships) == (None, [])


async def test_a_wrong_password_counts_and_locks_and_a_deactivated_person_gets_no_token(
    accounts, ctx
):
    quick = dataclasses.replace(
        ctx, settings=ctx.settings.model_copy(update={"login_free_attempts": 2})
    )
    await add_user(accounts, "b@client.example")
    for _ in range(2):
        async with ctx.sessionmaker() as session, session.begin():
            with pytest.raises(Unauthorized):
                await logins.login(session, quick, "b@client.example", "wrong")
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(TooManyRequests) as locked:  # even with the right password
            await logins.login(session, quick, "b@client.example", PASSWORD)
    assert int(locked.value.headers["Retry-After"]) > 0
    user = await add_user(accounts, "gone@client.example")
    async with ctx.sessionmaker() as session, session.begin():
        await revocations.deactivate(session, ADMIN, user)
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(Unauthorized, match="deactivated"):
            await logins.login(session, ctx, "gone@client.example", PASSWORD)
        with pytest.raises(Unauthorized):
            await logins.switch_company(session, ctx, user, uuid.uuid4())


async def test_an_invitation_is_announced_and_its_token_shown_only_in_development(accounts, ctx):
    company = uuid.UUID((await add_company(accounts))["id"])
    new = await invited(ctx, company, "New@Client.example")
    assert new.token is None and new.invitation.email == "new@client.example"
    development = dataclasses.replace(
        ctx, settings=ctx.settings.model_copy(update={"environment": "development"})
    )
    async with ctx.sessionmaker() as session, session.begin():
        shown = await usecase.invite(session, development, ADMIN, company, "x@c.example", "buyer")
        assert shown.token
        events = await recorded(session, "invitation.created")
    assert [(e["invitation_id"], e["email"], e["role"]) for e in events] == [
        (str(new.invitation.id), "new@client.example", "buyer"),
        (str(shown.invitation.id), "x@c.example", "buyer"),
    ]
    assert "token" not in events[0]


async def test_accepting_creates_the_person_once_and_an_existing_login_must_prove_itself(
    accounts, ctx
):
    dev = dataclasses.replace(
        ctx, settings=ctx.settings.model_copy(update={"environment": "development"})
    )
    company = uuid.UUID((await add_company(accounts))["id"])
    first = await invited(dev, company)
    async with ctx.sessionmaker() as session, session.begin():
        token = await usecase.accept_invitation(session, ctx, first.token, "New", "password-1")
        assert token.company_id == company
        changed = await recorded(session, "person.changed")
    assert [m["company_id"] for m in changed[-1]["memberships"]] == [str(company)]
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(NotFound):  # used
            await usecase.accept_invitation(session, ctx, first.token, "New", "password-1")
    other = uuid.UUID((await add_company(accounts))["id"])
    second = await invited(dev, other)
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(Unauthorized, match="has an account"):
            await usecase.accept_invitation(session, ctx, second.token, "New", "not-it-at-all")
    async with ctx.sessionmaker() as session, session.begin():
        token = await usecase.accept_invitation(session, ctx, second.token, "Other", "password-1")
        assert {m["company_id"] for m in token.memberships} == {company, other}
    expired = await invited(dev, company, "late@client.example")
    async with ctx.sessionmaker() as session, session.begin():
        row = await session.get(Invitation, expired.invitation.id)
        row.expires_at = utcnow() - timedelta(seconds=1)
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(NotFound):
            await usecase.accept_invitation(session, ctx, expired.token, "Late", "password-1")


async def test_the_last_admin_stays_and_a_removed_member_loses_its_tokens(accounts, ctx):
    company = uuid.UUID((await add_company(accounts))["id"])
    admin = await add_user(accounts, "a@client.example", companies={company: "company_admin"})
    buyer = await add_user(accounts, "b@client.example", companies={company: "buyer"})
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(Conflict, match="last admin"):
            await usecase.remove_member(session, ADMIN, company, admin)
        with pytest.raises(NotFound):
            await usecase.remove_member(session, ADMIN, company, uuid.uuid4())
        await usecase.remove_member(session, ADMIN, company, buyer)
    async with ctx.sessionmaker() as session, session.begin():
        user = await session.get(User, buyer)
        assert user.access_generation == 1
        listed = await revocations.revocations(session, ctx.settings.access_token_ttl_seconds)
        assert listed["users"] == [{"id": buyer, "generation": 1}]
        assert [
            m["user_id"] for m in (await usecase.members(session, ADMIN, company, EVERY))[0]
        ] == [admin]
        assert (await recorded(session, "person.changed"))[-1]["memberships"] == []


async def test_staff_and_the_first_admin_are_created_once(ctx):
    async with ctx.sessionmaker() as session, session.begin():
        user = await usecase.create_staff(session, "M@seller.example", "M", PASSWORD, "admin")
        assert user.email == "m@seller.example"
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(Conflict):
            await usecase.create_staff(session, "m@seller.example", "M", PASSWORD, "admin")
    async with ctx.sessionmaker() as session, session.begin():
        assert not await usecase.ensure_admin(session, "m@seller.example", PASSWORD)
        assert await usecase.ensure_admin(session, "root@seller.example", PASSWORD)
    async with ctx.sessionmaker() as session:
        assert {u.email for u in (await usecase.staff(session, "admin", EVERY))[0]} >= {
            "m@seller.example",
            "root@seller.example",
        }


async def test_an_admin_cannot_deactivate_itself_and_an_unknown_person_is_404(accounts, ctx):
    me = await add_user(accounts, "me@seller.example", staff_role="admin")
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(Conflict):
            await revocations.deactivate(session, principal(Role.ADMIN, subject=me), me)
        with pytest.raises(NotFound):
            await revocations.deactivate(session, ADMIN, uuid.uuid4())
        assert (await session.get(User, me)).active


async def test_an_api_key_is_verified_until_revoked_and_a_partner_key_needs_its_code(ctx):
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(Unprocessable) as refused:
            await api_keys.issue(session, ADMIN, "P", "partner", None)
        assert [e.field for e in refused.value.errors] == ["partner_code"]
        with pytest.raises(Unprocessable):
            await api_keys.issue(session, ADMIN, "ERP", "integrator", "market")
        issued = await api_keys.issue(session, ADMIN, "Market", "partner", "market")
    async with ctx.sessionmaker() as session, session.begin():
        who = await api_keys.verify(session, issued.secret)
        assert (who.subject, who.roles, who.partner_code) == (
            issued.key.id,
            frozenset({Role.PARTNER}),
            "market",
        )
        with pytest.raises(Unauthorized, match="Unknown"):
            await api_keys.verify(session, issued.secret[:-2] + "xx")
        await api_keys.revoke(session, issued.key.id)
        first_revoked = issued.key.revoked_at
        await api_keys.revoke(session, issued.key.id)
        assert issued.key.revoked_at == first_revoked
        with pytest.raises(Unauthorized, match="revoked"):
            await api_keys.verify(session, issued.secret)
        with pytest.raises(NotFound):
            await api_keys.revoke(session, uuid.uuid4())


async def test_the_pipeline_moves_by_hand_anywhere_and_by_itself_only_forward(accounts, ctx):
    company = uuid.UUID((await add_company(accounts))["id"])
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(Unprocessable):
            await pipeline.set_standing(session, ADMIN, company, "nope")
        lead = await pipeline.set_standing(session, ADMIN, company, None, "fair", sets_source=True)
        assert (lead.stage, lead.source) == ("lead", "fair")
        await pipeline.quote_requested(session, company)
        await pipeline.order_placed(session, company, False, utcnow())  # first order
        await pipeline.order_placed(session, company, True, utcnow())  # an add-on: no move
        assert (await pipeline.standing(session, ADMIN, company)).stage == "first_order"
        await pipeline.quote_requested(session, company)  # never back
        await pipeline.order_placed(session, company, False, utcnow())
        moved = await pipeline.standing(session, ADMIN, company)
        assert [c.to_stage for c in moved.history] == [
            "lead",
            "first_quote",
            "first_order",
            "repeat",
        ]
        assert (moved.source, moved.orders_placed) == ("fair", 3)
        await pipeline.order_placed(session, uuid.uuid4(), False, utcnow())  # unknown: nothing


async def test_a_pipeline_with_a_stage_twice_is_refused_and_the_old_one_stays(ctx):
    twice = [Stage("a", "A", 1), Stage("a", "A again", 2)]
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(Unprocessable) as refused:
            await pipeline.replace_stages(session, twice)
        assert [(e.field, e.row) for e in refused.value.errors] == [("code", 2)]
        assert [s.code for s in (await pipeline.stages(session, EVERY))[0]] == [
            "lead",
            "qualified",
            "first_quote",
            "first_order",
            "repeat",
        ]
