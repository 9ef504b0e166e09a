"""Analytics' alerts to clients from their purchases: an A-class SKU out of stock, price moves on
regularly bought SKUs (compared with pricing's answer over HTTP), cross-sell offers from the
batch gaps, which must equal the per-client answer."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal

import polars as pl
import pytest
from aiokafka import AIOKafkaProducer

from services.analytics.domain.alerts import key_sku_clients, out_of_stock, price_moves
from services.analytics.domain.assortment import assortment_gaps
from services.analytics.domain.cross_sell import cross_sell_gaps, peer_label
from services.analytics.store import alerts as store
from services.analytics.store import queries
from services.analytics.usecases.cross_sell_offers import offer_cross_sell
from services.analytics.usecases.price_checks import check_next_price_change
from shared.clock import utcnow
from shared.contracts.analytics import (
    ClientCrossSellOfferV1,
    ClientKeySkuOutOfStockV1,
    ClientRegularSkuPricesChangedV1,
)
from shared.contracts.catalog import StockChangedV1
from shared.contracts.pricing import PriceChangedV1
from shared.problems import ServiceUnavailable
from tests.analytics.facts import definitions
from tests.analytics.world import (
    NOW,
    company,
    deliver,
    envelope,
    months_ago,
    outbox,
    placed,
    product,
    sql,
    stock,
)
from tests.pricing.world import add_list, feed, seed_client, seed_skus


def test_a_sku_is_key_for_a_client_when_it_is_in_the_a_class_of_its_own_purchases():
    x, y = str(uuid.uuid4()), str(uuid.uuid4())
    purchases = pl.DataFrame(
        {
            "client_id": [x, x, x, y, y],
            "sku": ["A", "B", "C", "A", "B"],
            "revenue_minor": [800, 150, 50, 100, 900],
            "last_at": [NOW] * 5,
            "currency": ["EUR"] * 5,
        },
        schema_overrides={"last_at": pl.Datetime("us", "UTC")},
    )
    found = key_sku_clients(purchases, "A", definitions())
    # for x, A is 80 % of its purchases (class A); for y it comes after B's 90 % (class B)
    assert found.select("client_id", "revenue_minor", "revenue_share").rows() == [(x, 800, 0.8)]
    assert key_sku_clients(purchases, "B", definitions())["client_id"].to_list() == [y]
    assert out_of_stock(Decimal(3), Decimal(0))
    assert not out_of_stock(None, Decimal(0))  # never known in stock
    assert not out_of_stock(Decimal(0), Decimal(0))


def test_price_moves_keep_what_moved_enough_either_way():
    c = str(uuid.uuid4())
    paid = pl.DataFrame(
        {
            "client_id": [c] * 4,
            "sku": ["S1", "S2", "S3", "S4"],
            "name": ["one", "two", "three", "four"],
            "currency": ["EUR"] * 4,
            "quantity": ["10", "2", "1", "1"],
            "unit_price_minor": [1000, 500, 300, 700],
        }
    )
    now = pl.DataFrame(
        {
            "client_id": [c] * 4,
            "sku": ["S1", "S2", "S3", "S4"],
            "new_unit_price_minor": [1100, 510, 270, None],
        },
        schema_overrides={"new_unit_price_minor": pl.Int64},
    )
    moves = price_moves(paid, now, 5.0)
    assert moves.select(
        "sku", "old_unit_price_minor", "new_unit_price_minor", "change_percent"
    ).rows() == [
        ("S1", 1000, 1100, 10.0),
        ("S3", 300, 270, -10.0),
    ]  # S2 moved 2 %; S4 has no price any more


@pytest.fixture
async def analytics(start_app):
    return await start_app("analytics", recompute_interval_seconds=0)


async def test_through_the_broker_an_a_class_sku_out_of_stock_is_told_to_its_clients(
    start_app, kafka_bootstrap
):
    app = await start_app("analytics", run_workers=True, recompute_interval_seconds=0)
    manager = uuid.uuid4()
    x, y = company(manager=manager), company()
    glue = f"GLUE-{uuid.uuid4().hex[:6]}"
    await deliver(app, x, y, product(glue, "glue"), product("TAPE-1", "tape"))
    await deliver(
        app,
        placed(x.company_id, 20, {glue: ("8", 1000), "TAPE-1": ("1", 2000)}),
        placed(y.company_id, 20, {glue: ("1", 1000), "TAPE-1": ("9", 1000)}),
        placed(y.company_id, 400, {glue: ("100", 1000)}),  # beyond the 12 months: not counted
    )
    events = [stock(glue, 40), stock(glue, 0, 1), stock(glue, 0, 2), stock(glue, 5, 3)]
    events += [stock(glue, 0, 4)]  # out again: told again
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for event in events:
            env = envelope(event)
            await producer.send_and_wait(
                StockChangedV1.topic, value=env.model_dump_json().encode(), key=glue.encode()
            )
    finally:
        await producer.stop()
    async with asyncio.timeout(60):
        while (
            await sql(
                app, "SELECT count(*) FROM inbox WHERE event_type = :t", t=events[0].full_type()
            )
        )[0][0] < len(events):
            await asyncio.sleep(0.1)
    told = [
        ClientKeySkuOutOfStockV1.model_validate(e)
        for e in await outbox(app, "key_sku_out_of_stock")
    ]
    assert [e.client_id for e in told] == [x.company_id, x.company_id]
    first = told[0]
    assert (first.sku, first.name, first.currency, first.revenue_minor) == (glue, glue, "EUR", 8000)
    assert first.revenue_share == Decimal("0.8")
    assert first.sales_manager_id == manager


async def _priced_world(start_app):
    pricing = await start_app("pricing")
    analytics = await start_app(
        "analytics", upstreams={"pricing": pricing}, recompute_interval_seconds=0
    )
    regular, occasional = company(), company()
    await seed_client(pricing, external_id="REG", company_id=regular.company_id)
    await seed_client(pricing, external_id="OCC", company_id=occasional.company_id)
    await seed_skus(pricing, [(s, None, None) for s in ("S1", "S2", "S3", "S9")])
    await add_list(pricing, "BASE", base=True)
    await deliver(analytics, regular, occasional, *(product(s, "glue") for s in ("S1", "S2", "S3")))
    lines = {"S1": ("10", 1000), "S2": ("2", 500), "S9": ("1", 100)}
    await deliver(
        analytics,
        *(placed(regular.company_id, 0, lines, at=months_ago(n)) for n in (1, 2, 3)),
        placed(regular.company_id, 0, {"S3": ("1", 300)}, at=months_ago(1)),  # once: not regular
        placed(occasional.company_id, 0, {"S1": ("1", 1000)}, at=months_ago(1)),
    )
    return pricing, analytics, regular, occasional


async def _check(analytics) -> bool:
    async with analytics.state.sessionmaker() as session, session.begin():
        return await check_next_price_change(
            session, analytics.state.upstreams, analytics.state.settings
        )


async def test_a_price_change_tells_each_client_the_moves_on_the_skus_it_buys_regularly(start_app):
    pricing, analytics, regular, _occasional = await _priced_world(start_app)
    job = await feed(
        pricing,
        "list,client,sku,min_qty,price_minor,currency\n"
        "BASE,,S1,1,1100,EUR\nBASE,,S2,1,510,EUR\nBASE,,S3,1,600,EUR\nBASE,,S9,1,100,EUR\n",
    )
    assert job["state"] == "succeeded", job
    change = PriceChangedV1(
        change_id=uuid.uuid4(),
        cause="feed:test",
        list_codes=["BASE"],
        sku_from="S1",
        sku_to="S3",
        rows=4,
        changed_at=utcnow(),
    )
    once = envelope(change)
    await deliver(analytics, once, once, envelope(change))  # redelivered, and published twice
    assert await _check(analytics) is True
    assert await _check(analytics) is False  # one check per change, however often it came
    told = [
        ClientRegularSkuPricesChangedV1.model_validate(e)
        for e in await outbox(analytics, "regular_sku_prices_changed")
    ]
    assert [e.client_id for e in told] == [regular.company_id]
    assert told[0].change_id == change.change_id
    assert [
        (m.sku, m.quantity, m.old_unit_price_minor, m.new_unit_price_minor, m.change_percent)
        for m in told[0].skus
    ] == [("S1", Decimal(10), 1000, 1100, Decimal("10.0"))]  # S2 +2 %; S3 once; S9 out of range

    # a change of one other client's own prices concerns nobody here
    await deliver(
        analytics,
        PriceChangedV1(
            change_id=uuid.uuid4(),
            cause="client",
            client_ids=[uuid.uuid4()],
            changed_at=utcnow(),
        ),
    )
    assert await _check(analytics) is True
    assert len(await outbox(analytics, "regular_sku_prices_changed")) == 1
    done = await sql(analytics, "SELECT count(*) FROM price_checks WHERE done_at IS NULL")
    assert done == [(0,)]


async def test_a_price_check_waits_while_pricing_is_down_and_tells_nothing_twice(start_app):
    # pricing unreachable: the check fails and stays queued
    analytics = await start_app(
        "analytics", recompute_interval_seconds=0, pricing_url="http://127.0.0.1:9"
    )
    c = company()
    await deliver(analytics, c, product("S1", "glue"))
    await deliver(
        analytics,
        *(placed(c.company_id, 0, {"S1": ("1", 1000)}, at=months_ago(n)) for n in (1, 2, 3)),
        PriceChangedV1(change_id=uuid.uuid4(), cause="x", matrix=True, changed_at=utcnow()),
    )
    with pytest.raises(ServiceUnavailable):
        await _check(analytics)
    assert await sql(analytics, "SELECT count(*) FROM price_checks WHERE done_at IS NULL") == [(1,)]
    assert await outbox(analytics, "regular_sku_prices_changed") == []


async def _cross_sell_world(start_app, **settings) -> tuple:
    """Analytics with cross-sell peers of two or more, and the clients of the world below."""
    analytics = await start_app(
        "analytics",
        recompute_interval_seconds=0,
        cross_sell_min_peers=2,
        cross_sell_min_peer_share=0.25,
        **settings,
    )
    sized = [company(card={"size": "small"}) for _ in range(5)]
    unsized = [company() for _ in range(3)]
    food = [company(industry="food", client_type=None) for _ in range(4)]
    everyone = sized + unsized + food
    skus = {"GLUE-1": "glue", "PRIM-1": "primer", "PRIM-2": "primer", "TAPE-1": "tape"}
    await deliver(analytics, *everyone, *(product(s, c) for s, c in skus.items()))
    baskets = [
        {"GLUE-1": ("1", 100)},
        {"GLUE-1": ("1", 100), "PRIM-1": ("1", 100)},
        {"GLUE-1": ("1", 100), "PRIM-1": ("1", 100), "PRIM-2": ("1", 100)},
        {"PRIM-2": ("1", 100), "TAPE-1": ("1", 100)},
        {"TAPE-1": ("1", 100)},
    ]
    await deliver(
        analytics,
        *(placed(c.company_id, 3 + i, baskets[i % len(baskets)]) for i, c in enumerate(everyone)),
        placed(food[0].company_id, 900, {"GLUE-1": ("1", 100)}),  # beyond the history window
    )
    return analytics, everyone


async def test_batch_cross_sell_gaps_equal_the_per_client_answer(start_app):
    analytics, everyone = await _cross_sell_world(start_app)
    d = analytics.state.settings
    async with analytics.state.sessionmaker() as session:
        bought, clients = await store.everyones_purchases(session, d.history_months, utcnow())
        batch = cross_sell_gaps(bought, clients, d)
        compared = 0
        for c in everyone:
            who = await queries.client(session, c.company_id)
            one = assortment_gaps(
                await queries.peer_purchases(session, who, d.history_months, utcnow()),
                peer_label(who.industry, who.client_type, who.size),
                d,
            )
            mine = batch.filter(pl.col("client_id") == str(c.company_id)).to_dicts()
            assert [(g["category"], g["peer_share"], g["reason"], g["skus"]) for g in one] == [
                (g["category"], g["peer_share"], g["reason"], g["skus"]) for g in mine
            ], who.industry
            compared += len(one)
    assert compared >= 5  # the world has gaps to compare


async def test_cross_sell_offers_go_out_at_most_once_in_the_period(start_app):
    analytics, everyone = await _cross_sell_world(
        start_app, cross_sell_offer_suggestions=1, cross_sell_offer_every_days=30
    )
    d = analytics.state.settings
    async with analytics.state.sessionmaker() as session, session.begin():
        first = await offer_cross_sell(session, d)
    offers = [
        ClientCrossSellOfferV1.model_validate(e)
        for e in await outbox(analytics, "cross_sell_offer")
    ]
    assert first == len(offers) > 0
    assert {o.client_id for o in offers} <= {c.company_id for c in everyone}
    assert all(len(o.suggestions) == 1 for o in offers)  # the best one only
    some = next(o for o in offers if o.suggestions[0].skus)
    assert some.suggestions[0].skus[0].name == some.suggestions[0].skus[0].sku  # product names
    async with analytics.state.sessionmaker() as session, session.begin():
        assert await offer_cross_sell(session, d) == 0  # offered already in the period
    async with analytics.state.sessionmaker() as session, session.begin():
        later = await offer_cross_sell(session, d, now=utcnow() + timedelta(days=31))
    assert later == first
