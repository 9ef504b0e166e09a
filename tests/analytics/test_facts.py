"""Facts from events, exactly once; one client's recompute after each; the full recompute."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from services.analytics.store.segments import mark_dirty
from services.analytics.usecases.recompute import recompute_dirty
from shared.clock import moved_to
from shared.contracts.accounts import CompanyUpsertedV1
from shared.contracts.analytics import (
    CLIENT_TOPIC,
    ClientConcentrationAlertV1,
    ClientSegmentChangedV1,
)
from shared.contracts.orders import OrderPlacedV1
from shared.events.consumer import Outcome
from shared.events.envelope import CloudEvent
from shared.events.kafka import Publisher
from shared.testing.kafka import read_topic
from tests.analytics.world import (
    cancelled,
    company,
    credit,
    deliver,
    delivered,
    envelope,
    outbox,
    placed,
    product,
    recompute_base,
    sql,
)


async def test_an_order_delivered_twice_counts_once_and_changes_segments_once(analytics):
    c = company()
    await deliver(analytics, c.model_copy(update={}), product("SKU-1", "glue"))
    first = envelope(placed(c.company_id, 10, {"SKU-1": ("2", 500)}, cost=300))
    assert await deliver(analytics, first, first) == [Outcome.APPLIED, Outcome.DUPLICATE]
    assert await sql(
        analytics, "SELECT total_minor, costed_minor, cost_minor FROM order_facts"
    ) == [(1000, 1000, 600)]
    assert await sql(analytics, "SELECT revenue_minor, quantity::text FROM sku_month_facts") == [
        (1000, "2.000")
    ]
    changes = await outbox(analytics, "segment_changed")
    assert len(changes) == 1
    assert {ch["dimension"]: ch["current"] for ch in changes[0]["changes"]} == {
        "abc_revenue": "A",
        "abc_margin": "A",
        "rfm_segment": "new",
        "regularity": "one_off",
        "check_tier": "standard",
        "ladder": "buyer",
        "payment_behaviour": "pays_on_time",
        "concentration": "critical_dependency",
    }
    second = placed(c.company_id, 2)
    await deliver(analytics, second)
    changes = await outbox(analytics, "segment_changed")
    # the order doubles a one-client base: measured against the base as it is now (not the
    # stale breakpoints of its first order, which made it a champion), it stays "new"
    assert [ch["dimension"] for ch in changes[-1]["changes"]] == ["regularity", "ladder"]
    assert changes[-1]["changes"][0] == {
        "dimension": "regularity",
        "previous": "one_off",
        "current": "periodic",
    }


async def test_cancel_stops_counting_and_delivery_sets_otif(analytics):
    c = company()
    kept, dropped = placed(c.company_id, 20), placed(c.company_id, 10, {"SKU-1": ("3", 1000)})
    await deliver(analytics, c, kept, dropped, delivered(kept, True, True))
    await deliver(analytics, cancelled(dropped), cancelled(dropped))
    assert await sql(analytics, "SELECT sum(revenue_minor) FROM sku_month_facts") == [(1000,)]
    assert await sql(analytics, "SELECT lines, quantity::text FROM client_sku_facts") == [
        (1, "1.000")
    ]
    profile = await sql(
        analytics, "SELECT revenue_minor, metrics->>'otif_rate' FROM client_segments"
    )
    assert profile == [(1000, "1.0")]


async def test_overdue_debt_of_a_frequent_buyer_is_a_segment(analytics):
    c = company()
    await deliver(analytics, c, *(placed(c.company_id, d) for d in (5, 20, 40)))
    await deliver(analytics, credit(c.company_id, 50_000))
    assert await sql(analytics, "SELECT payment_behaviour FROM client_segments") == [
        ("buys_often_pays_late",)
    ]


async def test_full_recompute_classifies_the_base_and_a_second_run_emits_nothing(analytics):
    clients = [company() for _ in range(4)]
    await deliver(analytics, *clients)
    for c, value in zip(clients, (8000, 1000, 600, 400), strict=True):
        await deliver(analytics, placed(c.company_id, 30, {"SKU-1": ("1", value)}))
    before = len(await outbox(analytics, "segment_changed"))
    first = await recompute_base(analytics)
    assert first["clients"] == 4
    abc = dict(await sql(analytics, "SELECT revenue_minor, abc_revenue FROM client_segments"))
    assert abc == {8000: "A", 1000: "B", 600: "B", 400: "C"}
    again = await recompute_base(analytics)
    assert (again["segment_changed"], again["churn_risk_raised"]) == (0, 0)
    assert len(await outbox(analytics, "segment_changed")) == before + first["segment_changed"]
    skus = await sql(analytics, "SELECT sku, abc FROM sku_segments")
    assert skus == [("SKU-1", "A")]


async def test_sku_abc_counts_the_clients_rolling_year(analytics):
    # 15 Nov 2026: the window is 12 x 30.4375 days, from 15 Nov 2025 06:00 on
    def on(year: int, month: int, day: int) -> datetime:
        return datetime(year, month, day, 10, tzinfo=UTC)

    with moved_to(datetime(2026, 11, 15, 12, tzinfo=UTC)):
        c, other = company(), company()
        await deliver(
            analytics,
            c,
            other,
            placed(c.company_id, 0, {"X": ("1", 5000)}, at=on(2025, 11, 20)),
            placed(c.company_id, 0, {"Z": ("1", 700)}, at=on(2025, 11, 14)),  # before it
            placed(other.company_id, 0, {"Y": ("1", 4000), "Z": ("1", 1000)}, at=on(2026, 5, 10)),
        )
        await recompute_base(analytics)
    skus = await sql(analytics, "SELECT sku, abc, revenue_minor FROM sku_segments ORDER BY sku")
    assert skus == [("X", "A", 5000), ("Y", "A", 4000), ("Z", "B", 1000)]
    clients = "SELECT sum((metrics->>'abc_revenue_minor')::bigint) FROM client_segments"
    assert await sql(analytics, clients) == [(10_000,)]


async def test_through_the_broker_a_redelivered_order_changes_the_segment_once(
    start_app, kafka_bootstrap
):
    app = await start_app("analytics", run_workers=True, recompute_interval_seconds=0)
    c = company()
    order = envelope(placed(c.company_id, 3))
    publisher = Publisher(kafka_bootstrap, "test-orders")
    try:
        producer = await publisher.producer()
        for contract, event in (
            (CompanyUpsertedV1, envelope(c)),
            (OrderPlacedV1, order),
            (OrderPlacedV1, order),
        ):
            await publisher.ensure_topics({contract.topic})
            await producer.send_and_wait(
                contract.topic,
                value=event.model_dump_json().encode(),
                key=str(c.company_id).encode(),
            )
    finally:
        await publisher.close()
    key = str(c.company_id).encode()
    records = []
    for _ in range(100):
        records = [
            r
            for r in await read_topic(kafka_bootstrap, CLIENT_TOPIC, expect=1, within=1)
            if r.key == key
        ]
        if records:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)  # the duplicate has had its chance to arrive
    records = [r for r in await read_topic(kafka_bootstrap, CLIENT_TOPIC, expect=1) if r.key == key]
    types = [CloudEvent.model_validate_json(r.value).type for r in records]
    # a one-client base: the client makes all of the sales, past every concentration level
    assert types == [ClientSegmentChangedV1.full_type(), ClientConcentrationAlertV1.full_type()]
    assert await sql(
        app, "SELECT count(*) FROM order_facts WHERE client_id = :c", c=c.company_id
    ) == [(1,)]


async def test_churn_risk_raised_is_an_event_once_per_crossing(start_app):
    # the volume trend at most halfway to the line, whatever today's date: the gap decides
    analytics = await start_app("analytics", recompute_interval_seconds=0, churn_drop_share=1.0)
    quiet, busy = company(manager=uuid.uuid4()), company()
    await deliver(analytics, quiet, busy, *(placed(busy.company_id, d) for d in (2, 32, 62)))
    await deliver(analytics, *(placed(quiet.company_id, d) for d in (100, 130, 160, 190)))
    await recompute_base(analytics)
    await recompute_base(analytics)
    raised = await outbox(analytics, "churn_risk_raised")
    assert len(raised) == 1
    event = raised[0]
    assert (event["client_id"], event["score"]) == (str(quiet.company_id), 83)
    assert event["sales_manager_id"] == str(quiet.sales_manager_id)
    assert (event["days_since_last_order"], event["usual_gap_days"]) == (100, 30)
    assert event["reason"] == "no order for 100 days, 3.3x its usual 30-day interval"
    # a new order brings it back below the line; going silent again would raise it anew
    await deliver(analytics, placed(quiet.company_id, 1))
    assert await sql(
        analytics,
        "SELECT churn_raised FROM client_segments WHERE client_id = :c",
        c=quiet.company_id,
    ) == [(False,)]


async def test_an_order_in_a_foreign_currency_does_not_force_a_full_recompute(analytics):
    c, other = company(), company()
    await deliver(analytics, c, other, placed(c.company_id, 5), placed(other.company_id, 5))
    await deliver(analytics, placed(c.company_id, 3, currency="USD"))
    async with analytics.state.sessionmaker() as session, session.begin():
        await mark_dirty(session, c.company_id)
        assert (await recompute_dirty(session, analytics.state.settings))[
            "clients"
        ] == 1  # the one client, not all


async def test_a_company_arriving_after_its_orders_is_recomputed(analytics):
    # Orders and companies come on different topics, in no order among them: the company's
    # card (here its purchase potential, for share of wallet) must still reach its segments.
    c = company(card={"purchase_potential_minor": 100_000})
    await deliver(analytics, placed(c.company_id, 3))
    metric = "SELECT metrics->>'purchase_potential_minor' FROM client_segments"
    assert await sql(analytics, metric) == [(None,)]
    await deliver(analytics, c)
    assert await sql(analytics, metric) == [("100000",)]
