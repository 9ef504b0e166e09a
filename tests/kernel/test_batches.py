"""The kernel's per-row batches (shared.batches): every row answered, a refused row's writes
undone by its savepoint while the others stand, and all-or-nothing refusing the batch with a
422 that names each bad row; against the real PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from shared.batches import APPLIED, REJECTED, UNCHANGED, Batch, RowRefused, apply_each
from shared.problems import Unprocessable


class TooLong(Exception):
    pass


async def _names(session) -> list[str]:
    return list(await session.scalars(text("SELECT name FROM widgets ORDER BY name")))


def _write(session):
    async def apply(name: str) -> bool:
        """Writes the widget first, then refuses it, so a refusal has something to undo."""
        if name in await _names(session):
            return False
        await session.execute(
            text("INSERT INTO widgets (id, name) VALUES (:id, :name)"),
            {"id": uuid.uuid4(), "name": name},
        )
        if name.startswith("bad"):
            raise RowRefused(f"{name} is refused")
        if len(name) > 5:
            raise TooLong("longer than 5")
        return True

    return apply


async def test_each_row_has_an_outcome_and_a_refused_row_changes_nothing(sessionmaker):
    async with sessionmaker() as session:
        batch = await apply_each(
            session,
            ["b", "bad-1", "a", "a", "longer"],
            _write(session),
            key=lambda name: name,
            field_name="names",
            refused=(TooLong,),
        )
        assert await _names(session) == ["a", "b"]
        await session.rollback()
    assert [(o.row, o.key, o.status) for o in batch.outcomes] == [
        (1, "b", APPLIED),
        (2, "bad-1", REJECTED),
        (3, "a", APPLIED),
        (4, "a", UNCHANGED),
        (5, "longer", REJECTED),
    ]
    assert [(p.field, p.message) for o in batch.rejected for p in o.problems] == [
        ("names", "bad-1 is refused"),
        ("names", "longer than 5"),
    ]
    assert (batch.count(APPLIED), batch.count(UNCHANGED), batch.count(REJECTED)) == (2, 1, 2)
    assert batch.settle("skip_bad_rows", "never raised") is batch


async def test_rows_are_applied_in_the_order_asked_and_answered_in_row_order(sessionmaker):
    seen: list[str] = []

    async def apply(name: str) -> bool:
        seen.append(name)
        return True

    async with sessionmaker() as session:
        batch = await apply_each(
            session, ["c", "a", "b"], apply, key=str, field_name="names", order=lambda n: n
        )
    assert seen == ["a", "b", "c"]
    assert [(o.row, o.key) for o in batch.outcomes] == [(1, "c"), (2, "a"), (3, "b")]


async def test_an_unexpected_error_is_not_swallowed(sessionmaker):
    async def apply(name: str) -> bool:
        raise KeyError(name)

    async with sessionmaker() as session:
        with pytest.raises(KeyError):
            await apply_each(session, ["a"], apply, key=str, field_name="names")


def test_all_or_nothing_refuses_the_batch_naming_each_bad_row_and_its_key():
    batch = Batch()
    batch.add("SO-2", REJECTED, [("updates", "unknown order")], row=2)
    batch.add("SO-1", APPLIED, row=1)
    with pytest.raises(Unprocessable) as refused:
        batch.settle("all_or_nothing", "Some updates cannot be applied.", keyed=True)
    assert refused.value.detail == "Some updates cannot be applied."
    assert [(e.field, e.message, e.row) for e in refused.value.errors] == [
        ("updates", "SO-2: unknown order", 2)
    ]
    assert Batch().settle("all_or_nothing", "nothing is bad").count(REJECTED) == 0


def test_a_repeated_key_is_rejected_naming_the_first_row():
    batch = Batch()
    assert batch.add("BASE", "created", unique_field="code")
    assert batch.repeats("BASE") and not batch.repeats("VIP")
    assert not batch.add("BASE", "updated", [("name", "too long")], unique_field="code")
    assert not batch.add("VIP", "created", [("currency", "unknown")], unique_field="code")
    assert [(o.row, o.status) for o in batch.outcomes] == [
        (1, "created"),
        (2, REJECTED),
        (3, REJECTED),
    ]
    assert [(p.field, p.message) for p in batch.outcomes[1].problems] == [
        ("name", "too long"),
        ("code", "repeats row 1"),
    ]
    with pytest.raises(Unprocessable) as refused:
        batch.settle("all_or_nothing", "2 of 3 rows are bad")
    assert [e.message for e in refused.value.errors] == ["too long", "repeats row 1", "unknown"]
