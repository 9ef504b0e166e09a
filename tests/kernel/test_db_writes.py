"""shared.db's writes against the real PostgreSQL: add_unique (a taken unique key answers 409
in the caller's words, decided by the database) and upsert (insert, or overwrite the row of
that key; with `where`, only when it holds)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import (
    TableConventions,
    add_unique,
    upsert,
)
from shared.problems import Conflict


class Base(TableConventions, DeclarativeBase):
    pass


class Widget(Base):
    __tablename__ = "widgets"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String, unique=True)


async def test_a_taken_key_is_a_conflict_in_the_callers_words(sessionmaker):
    async with sessionmaker() as session, session.begin():
        first = await add_unique(session, Widget(name="gear"), "taken")
        assert first.id is not None
    async with sessionmaker() as session:
        with pytest.raises(Conflict) as refused:
            await add_unique(session, Widget(name="gear"), "A widget 'gear' exists.")
        assert refused.value.status == 409
        assert refused.value.detail == "A widget 'gear' exists."
        await session.rollback()
        assert await session.scalar(select(func.count()).select_from(Widget)) == 1


async def test_upsert_inserts_then_overwrites_the_row_of_its_key_where_allowed(sessionmaker):
    gear = uuid.uuid4()
    async with sessionmaker() as session, session.begin():
        await upsert(session, Widget, {"id": gear, "name": "gear"}, ("id",))
        await upsert(session, Widget, {"id": gear, "name": "cog"}, ("id",))
        never = {"id": gear, "name": "never"}
        await upsert(session, Widget, never, ("id",), where=lambda new: new.name == "allowed")
    async with sessionmaker() as session:
        assert list(await session.scalars(select(Widget.name))) == ["cog"]
