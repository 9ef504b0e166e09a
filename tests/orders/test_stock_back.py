"""A SKU back in stock is told to each company keeping it on a requisition list: stock levels
arrive from catalog through the real broker, the event leaves through orders' outbox."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal

from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from services.orders.domain.stock import back_in_stock
from services.orders.events import handle_product_upserted
from shared.clock import utcnow
from shared.contracts.catalog import ProductUpsertedV1, StockChangedV1
from shared.contracts.orders import RequisitionStockBackV1
from shared.events.envelope import CloudEvent
from tests.contract.test_stock_levels import stock_change


def test_back_in_stock_means_available_nowhere_before_and_somewhere_now():
    assert back_in_stock(Decimal(0), Decimal(3))
    assert back_in_stock(Decimal(-2), Decimal("0.5"))  # oversold before
    assert not back_in_stock(Decimal(4), Decimal(9))  # it was in stock
    assert not back_in_stock(Decimal(0), Decimal(0))
    assert not back_in_stock(None, Decimal(10))  # never heard of: the first feed is no return


async def _sql(app, statement: str, **params) -> list:
    async with app.state.sessionmaker() as session, session.begin():
        result = await session.execute(text(statement), params)
        return result.all() if result.returns_rows else []


async def _list(app, company_id: uuid.UUID, name: str, *skus: str) -> uuid.UUID:
    list_id = uuid.uuid4()
    await _sql(
        app,
        "INSERT INTO requisition_lists (id, company_id, name, created_by) VALUES (:i, :c, :n, 'u')",
        i=list_id,
        c=company_id,
        n=name,
    )
    for sku in skus:
        await _sql(
            app,
            "INSERT INTO requisition_list_lines (list_id, sku, quantity) VALUES (:i, :s, 1)",
            i=list_id,
            s=sku,
        )
    return list_id


def _stock(sku: str, warehouse: str, available: int, at) -> CloudEvent:
    event = stock_change(sku, warehouse, available, at)
    return CloudEvent(
        source="/b2b/catalog",
        type=event.full_type(),
        subject=event.aggregate_id(),
        data=event.model_dump(mode="json"),
    )


async def _told(app) -> list[RequisitionStockBackV1]:
    rows = await _sql(
        app,
        "SELECT payload FROM outbox WHERE type = :t ORDER BY seq",
        t=RequisitionStockBackV1.full_type(),
    )
    return [RequisitionStockBackV1.model_validate(r[0]["data"]) for r in rows]


async def _inbox(app) -> int:
    rows = await _sql(app, "SELECT count(*) FROM inbox WHERE event_type = :t", t=_TYPE)
    return rows[0][0]


_TYPE = StockChangedV1.full_type()


async def test_each_company_keeping_the_sku_on_a_list_is_told_once_per_return(
    start_app, kafka_bootstrap
):
    app = await start_app("orders", run_workers=True)
    sku, other = f"KN-{uuid.uuid4().hex[:6]}", f"CE-{uuid.uuid4().hex[:6]}"
    async with app.state.sessionmaker() as session, session.begin():
        await handle_product_upserted(
            ProductUpsertedV1(
                sku=sku,
                name="Knauf board",
                brand=None,
                category=None,
                unit="pcs",
                sellable=True,
                updated_at=utcnow(),
            ),
            session,
        )
    alpha, beta, gamma = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    tower = await _list(app, alpha, "Tower B", sku, other)
    weekly = await _list(app, alpha, "Weekly", sku)
    await _list(app, beta, "Main", sku)
    await _list(app, gamma, "Glue only", other)

    t = utcnow()
    events = [
        _stock(sku, "MAIN", 0, t),  # first heard of: out of stock, nobody told
        _stock(sku, "SOUTH", 0, t),
        _stock(sku, "SOUTH", 12, t + timedelta(seconds=1)),  # back: one event per company
        _stock(sku, "MAIN", 5, t + timedelta(seconds=2)),  # more of it: nothing new
        _stock(sku, "SOUTH", 10, t),  # older than what SOUTH already said: ignored
    ]
    events.append(events[2])  # the broker delivers the return twice
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                StockChangedV1.topic,
                value=event.model_dump_json().encode(),
                key=event.subject.encode(),
            )
    finally:
        await producer.stop()
    async with asyncio.timeout(60):
        while await _inbox(app) < len(events) - 1:  # the duplicate makes no inbox row
            await asyncio.sleep(0.1)

    told = {e.company_id: e for e in await _told(app)}
    assert set(told) == {alpha, beta}
    assert [(s.sku, s.name, s.available) for s in told[alpha].skus] == [
        (sku, "Knauf board", Decimal(12))
    ]
    assert [(x.list_id, x.name) for x in told[alpha].lists] == [
        (tower, "Tower B"),
        (weekly, "Weekly"),
    ]
    assert [x.name for x in told[beta].lists] == ["Main"]
    levels = await _sql(
        app, "SELECT warehouse, available FROM stock_levels WHERE sku = :s ORDER BY 1", s=sku
    )
    assert [(w, int(a)) for w, a in levels] == [("MAIN", 5), ("SOUTH", 12)]
