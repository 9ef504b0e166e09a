"""The price-list and segment-rule use cases called directly with a session, no HTTP: what an
edit may not do, what a dry run leaves, and which codes a rule may take."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from services.pricing.usecases import price_lists, segment_rules
from shared.problems import Conflict, NotFound, Unprocessable
from tests.pricing.world import add_list

ADMIN = "user:admin"


async def test_an_edit_refuses_what_would_break_the_lists(pricing):
    await add_list(pricing, "BASE", base=True)
    await add_list(pricing, "GOLD", parent="BASE", markup_bp=-500)
    await add_list(pricing, "VIP", parent="GOLD", markup_bp=-100)
    async with pricing.state.sessionmaker() as session, session.begin():
        with pytest.raises(Unprocessable) as null:
            await price_lists.edit_list(session, "GOLD", {"name": None}, by=ADMIN)
        assert null.value.errors[0].field == "name"
        with pytest.raises(Unprocessable) as cycle:
            await price_lists.edit_list(session, "BASE", {"parent_code": "VIP"}, by=ADMIN)
        assert cycle.value.errors[0].field == "parent_code"
        with pytest.raises(Conflict):  # VIP derives from GOLD in EUR
            await price_lists.edit_list(session, "GOLD", {"currency": "USD"}, by=ADMIN)
        with pytest.raises(Unprocessable) as alone:
            await price_lists.edit_list(
                session, "GOLD", {"parent_code": None, "markup_percent": Decimal(3)}, by=ADMIN
            )
        assert alone.value.errors[0].field == "markup_percent"


async def test_a_dry_run_answers_the_diff_and_changes_nothing(pricing):
    await add_list(pricing, "BASE", base=True)
    await add_list(pricing, "GOLD", parent="BASE", markup_bp=-500)
    async with pricing.state.sessionmaker() as session, session.begin():
        edited = await price_lists.edit_list(
            session, "GOLD", {"markup_percent": Decimal(-7)}, by=ADMIN, dry_run=True
        )
        assert edited.outcome is not None and edited.outcome.state == "dry_run"
        assert edited.outcome.version is None
        assert edited.parent_code == "BASE"
        stored = await session.scalar(text("SELECT markup_bp FROM price_lists WHERE code = 'GOLD'"))
        assert stored == -500
        applied = await price_lists.edit_list(
            session, "GOLD", {"markup_percent": Decimal(-7)}, by=ADMIN
        )
        assert applied.price_list.markup_bp == -700


async def test_a_list_with_derived_lists_or_entries_is_not_deleted(pricing):
    await add_list(pricing, "BASE", base=True)
    await add_list(pricing, "GOLD", parent="BASE")
    async with pricing.state.sessionmaker() as session, session.begin():
        with pytest.raises(Conflict):
            await price_lists.delete_list(session, "BASE")
        await price_lists.delete_list(session, "GOLD")
        with pytest.raises(NotFound):
            await price_lists.delete_list(session, "GOLD")


async def test_a_segment_rule_code_is_taken_once_and_its_list_must_be_assignable(pricing):
    await add_list(pricing, "SEG", priority=5)
    fields = {"code": "BIG", "conditions": {"abc_revenue": "A"}, "action": "price_list"}
    async with pricing.state.sessionmaker() as session, session.begin():
        with pytest.raises(Unprocessable) as unknown:
            await segment_rules.add_rule(session, fields, "NO-SUCH")
        assert unknown.value.errors[0].field == "price_list_code"
        rule = await segment_rules.add_rule(session, fields, "SEG")
        assert rule.list_id is not None
        with pytest.raises(Conflict):
            await segment_rules.add_rule(session, fields, "SEG")
        await segment_rules.remove_rule(session, "BIG")
        with pytest.raises(NotFound):
            await segment_rules.remove_rule(session, "BIG")
