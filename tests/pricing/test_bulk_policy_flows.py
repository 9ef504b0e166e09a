"""The bulk policy use cases called directly with a session, no HTTP; and the per-item rules
they apply (domain/bulk_policy.py), as plain functions."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from services.pricing.api.policy_schemas import PriceListCreate
from services.pricing.domain.bulk_policy import (
    GOVERNED,
    Outcome,
    assignment,
    discount_errors,
    list_errors,
    list_outcome,
)
from services.pricing.domain.percents import basis_points, from_basis_points
from services.pricing.usecases import bulk_policy
from shared.batches import REJECTED
from shared.problems import Unprocessable
from tests.pricing.world import fetch


def _item(code: str, parent: str | None = None, markup_bp: int = 0, **fields):
    return {
        "code": code,
        "parent_code": parent,
        "markup_bp": markup_bp,
        "currency": "EUR",
        "name": code,
        "priority": 0,
        "is_base": False,
        "valid_from": None,
        "valid_to": None,
    } | fields


def _stored(**fields):
    return SimpleNamespace(**(_item("BASE") | {"is_matrix": False, "has_children": False} | fields))


def test_a_list_item_may_not_derive_from_itself_an_unknown_or_a_matrix_list():
    known = {"BASE": ("EUR", False), "M": ("EUR", True), "USD": ("USD", False)}
    assert list_errors(_item("A", "A"), None, known, set())[0][1] == (
        "a list cannot derive from itself"
    )
    assert list_errors(_item("A", "NOPE"), None, known, set())[0][0] == "parent_code"
    assert "matrix" in list_errors(_item("A", "M"), None, known, set())[0][1]
    assert "USD" in list_errors(_item("A", "USD"), None, known, set())[0][1]
    assert list_errors(_item("A", "BASE"), None, known, set()) == []


def test_a_stored_list_changes_here_only_what_moves_no_price():
    known = {"BASE": ("EUR", False), "P": ("EUR", False)}
    stored = _stored(code="A", parent_code="BASE", markup_bp=-500)
    assert list_errors(_item("A", "P", -500), stored, known, set()) == [("parent_code", GOVERNED)]
    assert list_errors(_item("A", "BASE", -600), stored, known, set()) == [
        ("markup_percent", GOVERNED)
    ]
    parent = _stored(has_children=True)
    assert list_errors(_item("BASE", currency="USD"), parent, known, set())[0][0] == "currency"
    assert list_errors(_item("M"), _stored(is_matrix=True), known, set())[0][0] == "code"
    assert list_outcome(_item("BASE"), _stored()) == Outcome.UNCHANGED
    assert list_outcome(_item("BASE", name="Renamed"), _stored()) == Outcome.UPDATED
    assert list_outcome(_item("NEW"), None) == Outcome.CREATED


def test_a_set_of_lists_is_created_updated_or_unchanged_and_names_bad_codes():
    lists = {
        "G1": SimpleNamespace(id=1, is_matrix=False),
        "M": SimpleNamespace(id=2, is_matrix=True),
    }
    assert assignment(["G1"], lists, None) == (Outcome.CREATED, [1], [])
    assert assignment(["G1", "G1"], lists, {1}) == (Outcome.UNCHANGED, [1], [])
    assert assignment([], lists, {1}) == (Outcome.UPDATED, [], [])
    outcome, _, errors = assignment(["G1", "X", "M"], lists, set())
    assert [f for f, _ in errors] == ["list_codes[1]", "list_codes[2]"]
    assert outcome == Outcome.CREATED  # an empty set before is none


def test_a_client_names_each_discount_once_and_percents_round_trip():
    d = SimpleNamespace
    twice = [d(scope="brand", value="Acme"), d(scope="category", value="Acme")]
    assert discount_errors(twice) == []
    assert discount_errors([*twice, d(scope="brand", value="Acme")]) == [
        ("discounts[2].value", "a second brand discount on 'Acme'")
    ]
    assert basis_points(Decimal("-12.5")) == -1250
    assert from_basis_points(-1250) == Decimal("-12.50")


async def test_all_or_nothing_stores_nothing_and_skip_bad_rows_stores_the_good(pricing):
    items = [
        PriceListCreate(code="BASE", currency="EUR", is_base=True),
        PriceListCreate(code="D", currency="EUR", parent_code="NOPE"),
        PriceListCreate(code="BASE", currency="EUR"),
    ]
    async with pricing.state.sessionmaker() as session, session.begin():
        with pytest.raises(Unprocessable) as refused:
            await bulk_policy.price_lists(session, items, "all_or_nothing")
    assert refused.value.detail == "2 of 3 rows are bad; nothing changed."
    assert [(e.row, e.field) for e in refused.value.errors] == [(2, "parent_code"), (3, "code")]
    assert await fetch(pricing, "SELECT code FROM price_lists") == []

    async with pricing.state.sessionmaker() as session, session.begin():
        rows = await bulk_policy.price_lists(session, items, "skip_bad_rows")
    assert [(o.row, o.status) for o in rows.outcomes] == [
        (1, Outcome.CREATED),
        (2, REJECTED),
        (3, REJECTED),
    ]
    assert [r.code for r in await fetch(pricing, "SELECT code FROM price_lists")] == ["BASE"]

    async with pricing.state.sessionmaker() as session, session.begin():
        again = await bulk_policy.price_lists(session, items[:1], "all_or_nothing")
    assert [o.status for o in again.outcomes] == [Outcome.UNCHANGED]
