"""Floors, promotions and turnover ladders, and which ladder a client is on."""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.store.models import (
    ClientLadder,
    FloorPrice,
    Ladder,
    Promotion,
)
from services.pricing.store.policy import unknown
from shared.db import add_unique, upsert
from shared.problems import NotFound

Coded = TypeVar("Coded", Promotion, Ladder)


async def set_floor(session: AsyncSession, sku: int, currency: str, price_minor: int) -> None:
    floor = {"sku_id": sku, "currency": currency, "price_minor": price_minor}
    await upsert(session, FloorPrice, floor, ("sku_id", "currency"))


async def delete_floor(session: AsyncSession, sku: int, currency: str) -> bool:
    result = await session.execute(
        delete(FloorPrice).where(FloorPrice.sku_id == sku, FloorPrice.currency == currency)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def floors_query(*, sku: int | None, currency: str | None) -> Select[tuple[FloorPrice]]:
    stmt = select(FloorPrice)
    if sku is not None:
        stmt = stmt.where(FloorPrice.sku_id == sku)
    if currency is not None:
        stmt = stmt.where(FloorPrice.currency == currency)
    return stmt


# Promotions ----------------------------------------------------------------------------------


async def _by_code(
    session: AsyncSession, model: type[Coded], code: str, missing: Exception
) -> Coded:
    """The promotion or ladder of that code, else `missing` raised."""
    found = await session.scalar(select(model).where(model.code == code))
    if found is None:
        raise missing
    return found


async def get_promotion(session: AsyncSession, code: str) -> Promotion:
    return await _by_code(session, Promotion, code, NotFound("No such promotion."))


async def add_promotion(session: AsyncSession, promotion: Promotion) -> Promotion:
    return await add_unique(session, promotion, f"A promotion {promotion.code!r} exists.")


def promotions_query(*, scope: str | None, active_on: date | None) -> Select[tuple[Promotion]]:
    stmt = select(Promotion)
    if scope is not None:
        stmt = stmt.where(Promotion.scope == scope)
    if active_on is not None:
        stmt = stmt.where(
            Promotion.valid_from <= active_on,
            (Promotion.valid_to.is_(None)) | (Promotion.valid_to > active_on),
        )
    return stmt


async def remove_promotion(session: AsyncSession, promotion: Promotion) -> None:
    await session.execute(delete(Promotion).where(Promotion.id == promotion.id))


# Ladders -------------------------------------------------------------------------------------


async def get_ladder(session: AsyncSession, code: str) -> Ladder:
    return await _by_code(session, Ladder, code, NotFound("No such ladder."))


async def ladder_for_assignment(session: AsyncSession, code: str) -> Ladder:
    return await _by_code(session, Ladder, code, unknown("ladder_code", f"no ladder {code!r}"))


async def add_ladder(session: AsyncSession, ladder: Ladder) -> Ladder:
    return await add_unique(session, ladder, f"A ladder {ladder.code!r} exists.")


def ladders_query() -> Select[tuple[Ladder]]:
    return select(Ladder)


async def client_ladder_code(session: AsyncSession, client_id: int) -> str | None:
    return await session.scalar(
        select(Ladder.code)
        .join(ClientLadder, ClientLadder.ladder_id == Ladder.id)
        .where(ClientLadder.client_id == client_id)
    )


async def assign_ladder(session: AsyncSession, client_id: int, ladder_id: int) -> None:
    assigned = {"client_id": client_id, "ladder_id": ladder_id}
    await upsert(session, ClientLadder, assigned, ("client_id",))


async def unassign_ladder(session: AsyncSession, client_id: int) -> bool:
    result = await session.execute(delete(ClientLadder).where(ClientLadder.client_id == client_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


# The event every edit records ----------------------------------------------------------------
