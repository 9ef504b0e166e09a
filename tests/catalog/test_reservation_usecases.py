"""The reservation use cases called as functions, without HTTP: a session of the started
catalog (real PostgreSQL) is all they are given."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from services.catalog.store.models import Reservation
from services.catalog.usecases import reservations as usecase
from services.catalog.usecases.reservations import Wanted
from services.catalog.workers import expire_reservations
from shared.clock import utcnow
from shared.problems import Conflict, NotFound
from tests.catalog.test_reservations import reserved, stocked

TTL = timedelta(minutes=15)


def lines(*wanted: tuple[str, str]) -> list[Wanted]:
    return [Wanted(sku, None, Decimal(quantity)) for sku, quantity in wanted]


async def reserve(app, reference: str, *wanted: tuple[str, str], **options):
    async with app.state.sessionmaker() as session, session.begin():
        return await usecase.reserve(session, reference, lines(*wanted), TTL, **options)


async def call(app, flow, *args):
    async with app.state.sessionmaker() as session, session.begin():
        return await flow(session, *args)


async def state_of(app, reservation_id: uuid.UUID) -> str:
    async with app.state.sessionmaker() as session:
        return (await session.get(Reservation, reservation_id)).state


async def test_a_reference_holds_one_reservation_a_retry_gets_it_other_lines_are_refused(
    catalog,
):
    await stocked(catalog, A1="5")
    first = await reserve(catalog, "checkout-1", ("A-1", "2"))
    assert first.created and first.lines == [("A-1", "MSK", Decimal("2.000"))]

    again = await reserve(catalog, "checkout-1", ("A-1", "2"))
    assert (again.created, again.reservation.id) == (False, first.reservation.id)
    with pytest.raises(Conflict) as taken:
        await reserve(catalog, "checkout-1", ("A-1", "3"))
    assert taken.value.slug == "reference-taken"
    assert [e.field for e in taken.value.errors] == ["reference"]
    assert await reserved(catalog, "A-1") == "2.000"


async def test_short_stock_holds_nothing(catalog):
    await stocked(catalog, A1="1", B1="5")
    with pytest.raises(Conflict) as short:
        await reserve(catalog, "checkout-2", ("B-1", "1"), ("A-1", "2"))
    assert "A-1" in str(short.value.errors)
    assert (await reserved(catalog, "A-1"), await reserved(catalog, "B-1")) == ("0.000", "0.000")


async def test_renew_holds_an_ended_reservation_again_under_its_id_but_not_a_live_one(catalog):
    await stocked(catalog, A1="5")
    first = await reserve(catalog, "checkout-3", ("A-1", "2"))
    live = await reserve(catalog, "checkout-3", ("A-1", "2"), renew=True)
    assert not live.created and await reserved(catalog, "A-1") == "2.000"

    await call(catalog, usecase.release, first.reservation.id)
    assert await reserved(catalog, "A-1") == "0.000"
    plain = await reserve(catalog, "checkout-3", ("A-1", "2"))
    assert (plain.created, plain.reservation.state) == (False, "released")
    renewed = await reserve(catalog, "checkout-3", ("A-1", "2"), renew=True)
    assert (renewed.created, renewed.reservation.id) == (True, first.reservation.id)
    assert await reserved(catalog, "A-1") == "2.000"


async def test_confirm_keeps_a_live_reservation_and_refuses_an_ended_one(catalog):
    await stocked(catalog, A1="5")
    held = await reserve(catalog, "checkout-4", ("A-1", "1"))
    confirmed = await call(catalog, usecase.confirm, held.reservation.id)
    assert confirmed.reservation.state == "confirmed" and confirmed.lines == held.lines
    # confirming twice is harmless; releasing gives the stock back, after which confirm refuses
    await call(catalog, usecase.confirm, held.reservation.id)
    await call(catalog, usecase.release, held.reservation.id)
    with pytest.raises(Conflict, match="released"):
        await call(catalog, usecase.confirm, held.reservation.id)
    with pytest.raises(NotFound):
        await call(catalog, usecase.confirm, uuid.uuid4())


async def test_releasing_twice_or_an_unknown_id(catalog):
    await stocked(catalog, A1="5")
    held = await reserve(catalog, "checkout-5", ("A-1", "3"))
    await call(catalog, usecase.release, held.reservation.id)
    await call(catalog, usecase.release, held.reservation.id)
    assert await reserved(catalog, "A-1") == "0.000"
    assert await state_of(catalog, held.reservation.id) == "released"
    with pytest.raises(NotFound):
        await call(catalog, usecase.release, uuid.uuid4())
    with pytest.raises(NotFound):
        await call(catalog, usecase.reservation, uuid.uuid4())


async def test_a_released_reference_refuses_a_reservation_arriving_late(catalog):
    await stocked(catalog, A1="5")
    await call(catalog, usecase.release_reference, "checkout-6")
    with pytest.raises(Conflict) as late:
        await reserve(catalog, "checkout-6", ("A-1", "1"))
    assert late.value.slug == "reference-taken"
    assert await reserved(catalog, "A-1") == "0.000"


async def test_the_orders_end_releases_or_ships_what_it_held(catalog):
    await stocked(catalog, A1="5", B1="5")
    cancelled = await reserve(catalog, "order-1", ("A-1", "2"))
    shipped = await reserve(catalog, "order-2", ("B-1", "3"))
    await call(catalog, usecase.order_left, None, "released")  # an order that held nothing
    await call(catalog, usecase.order_left, cancelled.reservation.id, "released")
    await call(catalog, usecase.order_left, shipped.reservation.id, "shipped")
    await call(catalog, usecase.order_left, shipped.reservation.id, "shipped")  # redelivered

    async with catalog.state.sessionmaker() as session:
        on_hand = dict((await session.execute(text("SELECT sku, on_hand FROM stock_levels"))).all())
    assert (await reserved(catalog, "A-1"), await reserved(catalog, "B-1")) == ("0.000", "0.000")
    assert {sku: str(q) for sku, q in on_hand.items()} == {"A-1": "5.000", "B-1": "2.000"}
    assert await state_of(catalog, shipped.reservation.id) == "shipped"


async def test_the_expiry_worker_releases_only_what_is_past_its_time(catalog):
    await stocked(catalog, A1="5")
    due = await reserve(catalog, "checkout-7", ("A-1", "2"))
    kept = await reserve(catalog, "checkout-8", ("A-1", "1"))
    async with catalog.state.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE reservations SET expires_at = :t WHERE id = :id"),
            {"t": utcnow() - timedelta(seconds=1), "id": due.reservation.id},
        )

    assert await expire_reservations(catalog) == 1
    assert await expire_reservations(catalog) == 0
    assert await state_of(catalog, due.reservation.id) == "expired"
    assert await state_of(catalog, kept.reservation.id) == "held"
    assert await reserved(catalog, "A-1") == "1.000"


async def test_the_running_service_expires_reservations_in_its_worker(start_app):
    catalog = await start_app("catalog", run_workers=True)
    await stocked(catalog, A1="5")
    due = await reserve(catalog, "checkout-9", ("A-1", "2"))
    async with catalog.state.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE reservations SET expires_at = :t WHERE id = :id"),
            {"t": utcnow() - timedelta(seconds=1), "id": due.reservation.id},
        )
    for _ in range(200):  # the loop polls every EXPIRY_POLL_SECONDS
        if await state_of(catalog, due.reservation.id) == "expired":
            break
        await asyncio.sleep(0.05)
    assert await state_of(catalog, due.reservation.id) == "expired"
    assert await reserved(catalog, "A-1") == "0.000"
