"""Pricing's projections of accounts, catalog and orders events, against real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

from services.pricing.events import (
    CONSUMERS,
    handle_company_upserted,
    handle_order_cancelled,
    handle_order_placed,
    handle_product_upserted,
)
from shared.contracts.accounts import CompanyUpsertedV1
from shared.contracts.analytics import ClientSegmentChangedV1
from shared.contracts.catalog import ProductUpsertedV1
from shared.contracts.orders import OrderCancelledV1, OrderPlacedV1
from shared.events.consumer import Outcome
from shared.events.envelope import CloudEvent
from tests.events import cancellation_of, consumer_of, order_placed
from tests.pricing.world import company_event, envelope, fetch, product_event, publish

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def apply(app, handler, event) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await handler(event, session)


async def upsert_company(app, company_id, **fields) -> None:
    """Pricing's consumer takes accounts' company.upserted."""
    await apply(app, handle_company_upserted, company_event(company_id, **fields))


async def upsert_product(app, sku, brand, category, **fields) -> None:
    """Pricing's consumer takes catalog's product.upserted."""
    await apply(app, handle_product_upserted, product_event(sku, brand, category, **fields))


def placed(company_id, total_minor, placed_at=T0, currency="EUR", order_id=None) -> OrderPlacedV1:
    return order_placed(
        company_id,
        total_minor,
        placed_at=placed_at,
        currency=currency,
        order_id=order_id or uuid.uuid4(),
    )


def cancelled(order: OrderPlacedV1) -> OrderCancelledV1:
    return cancellation_of(order, order.placed_at + timedelta(days=1))


async def client_row(app, company_id):
    rows = await fetch(
        app,
        "SELECT id, external_id, legal_name, group_code, currency, status, updated_at"
        " FROM clients WHERE company_id = :c",
        c=company_id,
    )
    return rows[0] if rows else None


async def turnover(app, company_id) -> dict[tuple[date, str], int]:
    rows = await fetch(
        app,
        "SELECT t.month, t.currency, t.amount_minor FROM client_turnover t"
        " JOIN clients c ON c.id = t.client_id WHERE c.company_id = :c",
        c=company_id,
    )
    return {(r.month, r.currency): r.amount_minor for r in rows}


def test_the_pricing_group_consumes_clients_products_orders_and_segments():
    assert set(CONSUMERS) == {"pricing"}
    assert set(CONSUMERS["pricing"]) == {
        CompanyUpsertedV1,
        ProductUpsertedV1,
        OrderPlacedV1,
        OrderCancelledV1,
        ClientSegmentChangedV1,
    }


async def test_company_upsert_creates_then_updates_the_client(pricing):
    company = uuid.uuid4()
    await upsert_company(pricing, company, external_id="C-1", group_code="dealers", updated_at=T0)
    row = await client_row(pricing, company)
    assert (row.external_id, row.legal_name, row.group_code, row.currency, row.status) == (
        "C-1",
        "C-1",
        "dealers",
        "EUR",
        "active",
    )
    await upsert_company(
        pricing,
        company,
        external_id="C-1",
        legal_name="Acme GmbH",
        group_code=None,
        currency="USD",
        status="blocked",
        updated_at=T0 + timedelta(minutes=1),
    )
    updated = await client_row(pricing, company)
    assert updated.id == row.id
    assert (updated.legal_name, updated.group_code, updated.currency, updated.status) == (
        "Acme GmbH",
        None,
        "USD",
        "blocked",
    )
    assert updated.updated_at == T0 + timedelta(minutes=1)


async def test_an_older_company_event_is_ignored(pricing):
    company = uuid.uuid4()
    await upsert_company(pricing, company, external_id="C-1", group_code="new", updated_at=T0)
    await upsert_company(
        pricing,
        company,
        external_id="C-OLD",
        group_code="old",
        updated_at=T0 - timedelta(seconds=1),
    )
    row = await client_row(pricing, company)
    assert (row.external_id, row.group_code, row.updated_at) == ("C-1", "new", T0)


async def test_an_erp_id_moving_to_another_company_follows_the_newest_event(pricing):
    first, second = uuid.uuid4(), uuid.uuid4()
    await upsert_company(pricing, first, external_id="E-1", updated_at=T0)
    later = T0 + timedelta(hours=1)
    await upsert_company(pricing, second, external_id="E-1", updated_at=later)
    assert (await client_row(pricing, second)).external_id == "E-1"
    assert (await client_row(pricing, first)).external_id is None


async def test_product_upsert_creates_updates_and_ignores_stale(pricing):
    await upsert_product(pricing, "S1", "Knauf", "boards", updated_at=T0)
    newer = T0 + timedelta(minutes=5)
    await upsert_product(
        pricing, "S1", "Ceresit", "glue", unit="kg", sellable=False, updated_at=newer
    )
    await upsert_product(pricing, "S1", "Stale", "stale", updated_at=T0 + timedelta(minutes=1))
    rows = await fetch(
        pricing, "SELECT id, brand, category, unit, sellable, updated_at FROM skus WHERE sku = 'S1'"
    )
    assert len(rows) == 1
    assert tuple(rows[0])[1:] == ("Ceresit", "glue", "kg", False, newer)


async def test_orders_add_to_the_utc_month_and_cancellations_take_back(pricing):
    company = uuid.uuid4()
    await upsert_company(pricing, company, external_id="C-1")
    march = placed(company, 10_000)
    await apply(pricing, handle_order_placed, march)
    await apply(pricing, handle_order_placed, placed(company, 2_500, T0 + timedelta(days=5)))
    # 1 March 01:00 in Moscow is still 28 February in UTC.
    moscow = timezone(timedelta(hours=3))
    await apply(
        pricing, handle_order_placed, placed(company, 700, datetime(2026, 3, 1, 1, tzinfo=moscow))
    )
    await apply(pricing, handle_order_placed, placed(company, 900, currency="USD"))
    await apply(pricing, handle_order_cancelled, cancelled(march))
    assert await turnover(pricing, company) == {
        (date(2026, 3, 1), "EUR"): 2_500,
        (date(2026, 2, 1), "EUR"): 700,
        (date(2026, 3, 1), "USD"): 900,
    }


async def test_an_order_of_an_unknown_company_keeps_its_turnover_on_a_placeholder(pricing):
    company = uuid.uuid4()
    await apply(pricing, handle_order_placed, placed(company, 4_200, currency="PLN"))
    placeholder = await client_row(pricing, company)
    assert placeholder is not None
    assert (placeholder.external_id, placeholder.currency) == (None, "PLN")
    # The company's own event, however old its data, fills the placeholder in.
    await upsert_company(
        pricing,
        company,
        external_id="LATE",
        group_code="g",
        updated_at=datetime(2020, 1, 1, tzinfo=UTC),
    )
    filled = await client_row(pricing, company)
    assert filled.id == placeholder.id
    assert (filled.external_id, filled.group_code) == ("LATE", "g")
    assert await turnover(pricing, company) == {(date(2026, 3, 1), "PLN"): 4_200}


async def test_the_same_envelope_applied_twice_counts_once(pricing):
    consumer = consumer_of(pricing, "pricing.pricing", CONSUMERS["pricing"])
    company = uuid.uuid4()
    created = envelope(company_event(company, external_id="C-1"), "accounts")
    order = envelope(placed(company, 1_000), "orders")
    assert await consumer.apply(created) == Outcome.APPLIED
    assert await consumer.apply(order) == Outcome.APPLIED
    assert await consumer.apply(order) == Outcome.DUPLICATE
    assert await consumer.apply(created) == Outcome.DUPLICATE
    # A redelivery with the same id after a crash: still no second effect.
    again = CloudEvent.model_validate_json(order.model_dump_json())
    assert await consumer.apply(again) == Outcome.DUPLICATE
    assert await turnover(pricing, company) == {(date(2026, 3, 1), "EUR"): 1_000}
    # A second order (a new event id) does count.
    assert await consumer.apply(envelope(placed(company, 500), "orders")) == Outcome.APPLIED
    assert await turnover(pricing, company) == {(date(2026, 3, 1), "EUR"): 1_500}


async def test_the_running_service_projects_events_from_the_broker(start_app, kafka_bootstrap):
    app = await start_app("pricing", run_workers=True, from_now=True)
    company = uuid.uuid4()
    sku = f"BRK-{uuid.uuid4().hex[:8]}"
    await publish(
        kafka_bootstrap,
        (company_event(company, external_id=f"BRK-{company.hex[:8]}"), "accounts"),
        (product_event(sku, "Knauf", "boards"), "catalog"),
        (placed(company, 3_300), "orders"),
    )
    # Three topics, so no order among them: the order may arrive before its company, which
    # then fills in the client the order created.
    async with asyncio.timeout(60):
        while True:
            skus = await fetch(app, "SELECT 1 FROM skus WHERE sku = :s", s=sku)
            client = await client_row(app, company)
            if skus and client and client.external_id and await turnover(app, company):
                break
            await asyncio.sleep(0.1)
    assert await turnover(app, company) == {(date(2026, 3, 1), "EUR"): 3_300}
    assert (await client_row(app, company)).external_id == f"BRK-{company.hex[:8]}"
