"""The companies' use cases called as functions with a session, no HTTP: who a new company is
assigned to, what a change refuses, which events a write leaves, the card and the client
types, addresses and knowledge goals."""

from __future__ import annotations

import uuid

import pytest

from services.accounts.domain.card import CardField
from services.accounts.usecases import addresses, knowledge_goals
from services.accounts.usecases import companies as usecase
from services.accounts.usecases.access import PreconditionRequired
from shared.auth import Role
from shared.pagination import EVERY, PageParams
from shared.problems import Conflict, Forbidden, NotFound, PreconditionFailed, Unprocessable
from shared.testing.fixtures import principal
from tests.accounts.factories import add_user
from tests.accounts.usecase_helpers import recorded

ADMIN = principal(Role.ADMIN)
CARD_FIELDS = [
    CardField(key="volume", label="Volume", type="integer", required=True),
    CardField(key="note", label="Note", type="text"),
]


def company_values(**fields):
    return {"legal_name": f"Company {uuid.uuid4().hex[:6]}", **fields}


async def create(ctx, who=ADMIN, **fields):
    async with ctx.sessionmaker() as session, session.begin():
        view = await usecase.create_company(
            session, who, company_values(**fields), names_manager="sales_manager_id" in fields
        )
        return view.company


async def test_a_sales_managers_new_company_is_its_own_unless_it_names_another(accounts, ctx):
    manager = await add_user(accounts, "m@seller.example", staff_role="sales_manager")
    as_manager = principal(Role.SALES_MANAGER, subject=manager)
    own = await create(ctx, as_manager)
    unassigned = await create(ctx, as_manager, sales_manager_id=None)
    by_admin = await create(ctx)
    assert own.sales_manager_id == manager
    assert unassigned.sales_manager_id is None
    assert by_admin.sales_manager_id is None


async def test_a_new_company_is_announced_with_its_group_code_and_credit_only_when_set(ctx):
    async with ctx.sessionmaker() as session, session.begin():
        await usecase.create_client_group(session, "dealers", "Dealers")
    with_credit = await create(ctx, client_group="dealers", credit_limit_minor=5000)
    without = await create(ctx)
    async with ctx.sessionmaker() as session:
        upserted = await recorded(session, "company.upserted")
        credit = await recorded(session, "company.credit_changed")
    assert [(e["company_id"], e["client_group"]) for e in upserted] == [
        (str(with_credit.id), "dealers"),
        (str(without.id), None),
    ]
    assert [(e["company_id"], e["available_credit_minor"]) for e in credit] == [
        (str(with_credit.id), 5000)
    ]


async def test_a_company_naming_what_does_not_exist_is_refused_by_field_and_not_stored(ctx):
    for field, value in [
        ("client_group", "nope"),
        ("client_type", "nope"),
        ("sales_manager_id", uuid.uuid4()),
    ]:
        async with ctx.sessionmaker() as session, session.begin():
            with pytest.raises(Unprocessable) as refused:
                await usecase.create_company(
                    session, ADMIN, company_values(**{field: value}), names_manager=True
                )
        assert [e.field for e in refused.value.errors] == [field]
    await create(ctx, external_id="ERP-1")
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(Conflict):
            await usecase.create_company(
                session, ADMIN, company_values(external_id="ERP-1"), names_manager=False
            )
    async with ctx.sessionmaker() as session:
        views, _ = await usecase.list_companies(session, ADMIN, PageParams(limit=50))
    assert len(views) == 1


async def test_an_update_needs_the_version_read_and_gives_a_new_one(ctx):
    company = await create(ctx)
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(PreconditionRequired):
            await usecase.update_company(session, ADMIN, company.id, None, {"industry": "x"})
        with pytest.raises(PreconditionFailed):
            await usecase.update_company(session, ADMIN, company.id, '"v2"', {"industry": "x"})
    async with ctx.sessionmaker() as session, session.begin():
        view = await usecase.update_company(
            session, ADMIN, company.id, '"v1"', {"partners": ["b", "a", "b"]}
        )
        assert (view.company.version, view.company.partners) == (2, ["a", "b"])
        assert await recorded(session, "company.credit_changed") == []
        view = await usecase.update_company(
            session, ADMIN, company.id, "*", {"credit_limit_minor": 100}
        )
        assert view.company.version == 3
        assert len(await recorded(session, "company.credit_changed")) == 1
        assert len(await recorded(session, "company.upserted")) == 3


async def test_blocking_stamps_the_time_and_unblocking_clears_it(ctx):
    company = await create(ctx)
    async with ctx.sessionmaker() as session, session.begin():
        view = await usecase.update_company(session, ADMIN, company.id, "*", {"status": "blocked"})
        blocked_at = view.company.blocked_at
        assert blocked_at is not None
        again = await usecase.update_company(session, ADMIN, company.id, "*", {"industry": "x"})
        assert again.company.blocked_at == blocked_at  # still the same block
        view = await usecase.update_company(session, ADMIN, company.id, "*", {"status": "active"})
        assert view.company.blocked_at is None


async def test_a_sales_manager_lists_and_reaches_only_its_clients_and_a_buyer_its_own(
    accounts, ctx
):
    manager = await add_user(accounts, "m@seller.example", staff_role="sales_manager")
    as_manager = principal(Role.SALES_MANAGER, subject=manager)
    mine = await create(ctx, as_manager)
    other = await create(ctx)
    buyer = await add_user(accounts, "b@client.example", companies={other.id: "buyer"})
    as_buyer = principal(Role.BUYER, subject=buyer, company_id=other.id)
    async with ctx.sessionmaker() as session:
        views, _ = await usecase.list_companies(session, as_manager, PageParams(limit=50))
        assert [v.company.id for v in views] == [mine.id]
        views, _ = await usecase.list_companies(session, as_buyer, PageParams(limit=50))
        assert [v.company.id for v in views] == [other.id]
        with pytest.raises(NotFound):
            await usecase.get_company(session, as_manager, other.id)
        with pytest.raises(NotFound):
            await usecase.get_company(session, as_buyer, mine.id)


async def test_the_card_is_checked_against_its_client_types_fields(ctx):
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(Unprocessable, match="unique"):
            await usecase.put_client_type(session, "dealer", "Dealer", CARD_FIELDS * 2)
        await usecase.put_client_type(session, "dealer", "Dealer", CARD_FIELDS)
    company = await create(ctx, client_type="dealer")
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(Unprocessable) as refused:
            await usecase.replace_card(session, ADMIN, company.id, "*", {"note": "x"})
        assert [e.field for e in refused.value.errors] == ["card.volume"]
    async with ctx.sessionmaker() as session, session.begin():
        card = await usecase.replace_card(session, ADMIN, company.id, '"v1"', {"volume": 12})
        assert (card.values, card.version) == ({"volume": 12}, 2)
        assert [f.key for f in card.fields] == ["volume", "note"]
        assert (await recorded(session, "company.upserted"))[-1]["card"] == {"volume": 12}


async def test_a_client_group_code_is_taken_once(ctx):
    async with ctx.sessionmaker() as session, session.begin():
        await usecase.create_client_group(session, "dealers", "Dealers")
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(Conflict):
            await usecase.create_client_group(session, "dealers", "Again")
    async with ctx.sessionmaker() as session:
        assert [g.name for g in (await usecase.client_groups(session, EVERY))[0]] == ["Dealers"]


async def test_addresses_are_kept_by_the_companys_admin_not_its_buyers(accounts, ctx):
    company = await create(ctx)
    other = await create(ctx)
    buyer = await add_user(accounts, "b@client.example", companies={company.id: "buyer"})
    as_buyer = principal(Role.BUYER, subject=buyer, company_id=company.id)
    address = {"kind": "shipping", "line1": "1 Road", "city": "Town", "country": "DE"}
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(Forbidden):
            await addresses.add_address(session, as_buyer, company.id, address)
        added = await addresses.add_address(session, ADMIN, company.id, address)
    async with ctx.sessionmaker() as session, session.begin():
        assert [
            a.id for a in (await addresses.addresses(session, as_buyer, company.id, EVERY))[0]
        ] == [added.id]
        with pytest.raises(NotFound):  # another company's address is not one of its
            await addresses.remove_address(session, ADMIN, other.id, added.id)
        await addresses.remove_address(session, ADMIN, company.id, added.id)
        assert await addresses.addresses(session, ADMIN, company.id, EVERY) == ([], None)


async def test_a_knowledge_goal_is_set_once_per_year_and_code_and_then_replaced(ctx):
    company = await create(ctx)
    async with ctx.sessionmaker() as session, session.begin():
        first = await knowledge_goals.set_goal(
            session, ADMIN, company.id, 2027, "suppliers", {"title": "Who", "status": "open"}
        )
        second = await knowledge_goals.set_goal(
            session, ADMIN, company.id, 2027, "suppliers", {"title": "Who", "status": "achieved"}
        )
        await knowledge_goals.set_goal(
            session, ADMIN, company.id, 2028, "suppliers", {"title": "Who", "status": "open"}
        )
        assert first.id == second.id
        found, _ = await knowledge_goals.goals(session, ADMIN, company.id, 2027, EVERY)
        assert [(g.year, g.status, g.updated_by) for g in found] == [
            (2027, "achieved", ADMIN.user_id)
        ]
        assert len((await knowledge_goals.goals(session, ADMIN, company.id, None, EVERY))[0]) == 2
