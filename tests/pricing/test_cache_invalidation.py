"""A committed change drops cached prices in every price engine of the process, through one
way (price_book.engine.drop_once_committed), whichever application or job made it."""

from __future__ import annotations

from services.pricing.price_book.engine import PriceEngine, drop_once_committed
from services.pricing.store.policy import record_price_change
from shared.clock import today
from shared.testing.fixtures import client
from tests.pricing.world import ADMIN, seed_client


async def cached_twice(pricing) -> tuple[object, PriceEngine, PriceEngine]:
    """A client cached by the application's engine and by a second engine of the process."""
    company_id = await seed_client(pricing, external_id="C-CACHE")
    first: PriceEngine = pricing.state.price_engine
    second = PriceEngine(pricing.state.sessionmaker)
    for engine in (first, second):
        assert await engine.client(company_id, today()) is not None
        assert company_id in engine.clients
    return company_id, first, second


async def test_an_edit_through_the_api_drops_the_client_in_every_engine(pricing):
    company_id, first, second = await cached_twice(pricing)
    async with client(pricing, ADMIN) as http:
        answer = await http.put(
            f"/clients/{company_id}/discounts",
            json={"discounts": [{"scope": "brand", "value": "Acme", "percent": "5"}]},
        )
    assert answer.status_code == 200, answer.text
    assert company_id not in first.clients
    assert company_id not in second.clients


async def test_a_change_drops_only_once_committed(pricing):
    company_id, first, second = await cached_twice(pricing)
    async with pricing.state.sessionmaker() as session, session.begin():
        event = record_price_change(session, "test", client_ids=[company_id], rows=1)
        drop_once_committed(session, event)
        assert company_id in first.clients and company_id in second.clients
    assert company_id not in first.clients
    assert company_id not in second.clients

    for engine in (first, second):
        await engine.client(company_id, today())
    async with pricing.state.sessionmaker() as session:
        transaction = await session.begin()
        drop_once_committed(session, record_price_change(session, "test", client_ids=[company_id]))
        await transaction.rollback()
    assert company_id in first.clients and company_id in second.clients


async def test_a_list_change_drops_the_book_of_every_engine(pricing):
    _, first, second = await cached_twice(pricing)
    for engine in (first, second):
        await engine.ensure_book()
    async with pricing.state.sessionmaker() as session, session.begin():
        drop_once_committed(session, record_price_change(session, "test", list_codes=["BASE"]))
    assert first.book is None and second.book is None
    assert not first.clients and not second.clients
