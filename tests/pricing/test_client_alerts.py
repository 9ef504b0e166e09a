"""Pricing's alerts about a client's own terms: ladder progress after an order or a cancellation,
and contract prices that end soon, against real PostgreSQL and the real broker."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from decimal import Decimal

from services.pricing.domain.alerts import ladder_alert, period_start
from services.pricing.domain.ladder import Level
from services.pricing.events import handle_order_cancelled, handle_order_placed
from services.pricing.usecases.alerts import announce_expiring_prices
from shared.clock import utcnow
from shared.contracts.pricing import (
    CLIENT_TOPIC,
    ClientContractPricesExpiringV1,
    ClientLadderProgressV1,
)
from shared.events.envelope import CloudEvent
from shared.testing.kafka import read_topic
from tests.pricing.test_projections import apply, cancelled, placed
from tests.pricing.world import fetch, publish, seed_client, seed_skus, sql

LEVELS = [Level(0), Level(1_000_000, Decimal(2)), Level(5_000_000, Decimal(5), Decimal(1))]
NUDGE = Decimal(20)


def status(before: int, after: int, nudge: Decimal = NUDGE) -> str | None:
    found = ladder_alert(LEVELS, before, after, nudge)
    return found.status if found else None


def test_the_client_is_told_when_it_crosses_into_reach_of_a_level_or_onto_one():
    assert status(700_000, 790_000) is None  # 210,000 left: more than 20 % of 1,000,000
    assert status(700_000, 800_000) == "near"  # exactly 20 % left
    assert status(850_000, 900_000) is None  # already near that level: nothing new
    assert status(900_000, 1_050_000) == "reached"
    reached = ladder_alert(LEVELS, 900_000, 1_050_000, NUDGE).progress
    assert (reached.current.threshold_minor, reached.next.threshold_minor) == (1_000_000, 5_000_000)
    assert reached.left_minor == 3_950_000
    assert status(0, 6_000_000) == "reached"  # two levels at once: told the top one
    assert status(3_900_000, 4_000_000) == "near"  # near the second level
    assert status(1_050_000, 950_000) == "near"  # a cancellation dropped it back near level 1
    assert status(5_100_000, 5_200_000) is None  # the top level has no next
    assert status(700_000, 800_000, Decimal(0)) is None  # a 0 % nudge never nudges
    assert status(1_000_000, 1_000_000) is None


def test_the_period_a_day_falls_in():
    assert period_start("month", date(2026, 11, 23)) == date(2026, 11, 1)
    assert period_start("quarter", date(2026, 11, 23)) == date(2026, 10, 1)
    assert period_start("quarter", date(2026, 3, 31)) == date(2026, 1, 1)
    assert period_start("year", date(2026, 11, 23)) == date(2026, 1, 1)


async def _with_ladder(
    app, company_id: uuid.UUID, period: str = "month", code: str = "VOLUME"
) -> None:
    await sql(
        app,
        "INSERT INTO ladders (code, name, period, currency, levels) VALUES (:code, 'Volume',"
        " :period, 'EUR', CAST(:levels AS jsonb)) ON CONFLICT (code) DO NOTHING",
        code=code,
        period=period,
        levels='[{"threshold_minor": 0}, {"threshold_minor": 1000000, "discount_percent": "2"},'
        ' {"threshold_minor": 5000000, "discount_percent": "5", "bonus_percent": "1"}]',
    )
    await sql(
        app,
        "INSERT INTO client_ladders (client_id, ladder_id) SELECT c.id, l.id FROM clients c,"
        " ladders l WHERE c.company_id = :c AND l.code = :code",
        c=company_id,
        code=code,
    )


async def _told(app, company_id: uuid.UUID) -> list[dict]:
    rows = await fetch(
        app,
        "SELECT payload FROM outbox WHERE type = :t AND aggregate_id = :c ORDER BY seq",
        t=ClientLadderProgressV1.full_type(),
        c=str(company_id),
    )
    return [r.payload["data"] for r in rows]


async def test_orders_and_cancellations_tell_the_client_its_ladder_progress_once_per_crossing(
    pricing,
):
    acme = await seed_client(pricing, external_id="ACME")
    await _with_ladder(pricing, acme)
    now = utcnow()

    await apply(pricing, handle_order_placed, placed(acme, 700_000, now))
    assert await _told(pricing, acme) == []  # 300,000 left: not near yet
    await apply(pricing, handle_order_placed, placed(acme, 150_000, now))
    near = await _told(pricing, acme)
    assert [(e["status"], e["turnover_minor"], e["left_minor"]) for e in near] == [
        ("near", 850_000, 150_000)
    ]
    assert near[0]["next_level"]["threshold_minor"] == 1_000_000
    assert (near[0]["ladder"], near[0]["period"], near[0]["currency"]) == ("VOLUME", "month", "EUR")
    assert near[0]["period_start"] == now.date().replace(day=1).isoformat()

    await apply(pricing, handle_order_placed, placed(acme, 50_000, now))  # nearer, nothing new
    big = placed(acme, 200_000, now)
    await apply(pricing, handle_order_placed, big)
    await apply(pricing, handle_order_placed, placed(acme, 90_000, now, currency="USD"))
    last_month = now.replace(day=1) - timedelta(days=2)
    await apply(pricing, handle_order_placed, placed(acme, 4_000_000, last_month))  # closed period
    await apply(pricing, handle_order_cancelled, cancelled(big))  # back under level 1
    told = await _told(pricing, acme)
    assert [(e["status"], e["turnover_minor"]) for e in told] == [
        ("near", 850_000),
        ("reached", 1_100_000),
        ("near", 900_000),
    ]
    assert told[1]["current_level"] == {
        "threshold_minor": 1_000_000,
        "discount_percent": "2",
        "bonus_percent": "0",
    }
    assert told[1]["left_minor"] == 3_900_000
    # a quarter's turnover counts every month of the quarter, and only those
    quarterly = await seed_client(pricing, external_id="QUARTER")
    await _with_ladder(pricing, quarterly, period="quarter", code="QUARTERLY")
    start = period_start("quarter", now.date())
    await sql(
        pricing,
        "INSERT INTO client_turnover (client_id, month, currency, amount_minor) SELECT id,"
        " CAST(:m AS date), 'EUR', 600000 FROM clients WHERE company_id = :c UNION ALL SELECT id,"
        " CAST(:before AS date), 'EUR', 5000000 FROM clients WHERE company_id = :c",
        c=quarterly,
        m=start,
        before=(start - timedelta(days=1)).replace(day=1),
    )
    await apply(pricing, handle_order_placed, placed(quarterly, 250_000, now))
    quarter = await _told(pricing, quarterly)
    assert [
        (e["status"], e["period"], e["period_start"], e["turnover_minor"]) for e in quarter
    ] == [("near", "quarter", start.isoformat(), 850_000)]
    other = await seed_client(pricing, external_id="NO-LADDER")
    await apply(pricing, handle_order_placed, placed(other, 990_000, now))
    assert await _told(pricing, other) == []


async def test_through_the_broker_an_order_near_the_next_level_is_published(
    start_app, kafka_bootstrap
):
    # the service's own setting decides what "near" is: 10 % here
    app = await start_app(
        "pricing",
        run_workers=True,
        from_now=True,
        ladder_nudge_percent=10,
        contract_expiry_check_seconds=0,
    )
    company = await seed_client(app, external_id=f"BRK-{uuid.uuid4().hex[:8]}")
    await _with_ladder(app, company)
    orders = [placed(company, 850_000, utcnow()), placed(company, 60_000, utcnow())]
    await publish(kafka_bootstrap, *((order, "orders") for order in orders))
    key = str(company).encode()
    async with asyncio.timeout(60):
        while True:
            records = [
                r
                for r in await read_topic(kafka_bootstrap, CLIENT_TOPIC, expect=1, within=1)
                if r.key == key
            ]
            if records:
                break
    published = [CloudEvent.model_validate_json(r.value) for r in records]
    assert [e.type for e in published] == [ClientLadderProgressV1.full_type()]
    # 150,000 left after the first order is not within 10 %; 90,000 after the second is
    assert (published[0].data["status"], published[0].data["left_minor"]) == ("near", 90_000)


async def _contract(app, company_id, sku, valid_to, valid_from=None, price=1000) -> None:
    await sql(
        app,
        "INSERT INTO contract_prices (client_id, sku_id, price_minor, valid_from, valid_to,"
        " min_qty, currency) SELECT c.id, s.id, :p, coalesce(CAST(:vf AS date), '-infinity'),"
        " :vt, 1, 'EUR' FROM clients c, skus s WHERE c.company_id = :c AND s.sku = :s",
        c=company_id,
        s=sku,
        p=price,
        vf=valid_from,
        vt=valid_to,
    )


async def _expiring(app) -> list[dict]:
    rows = await fetch(
        app,
        "SELECT payload FROM outbox WHERE type = :t ORDER BY seq",
        t=ClientContractPricesExpiringV1.full_type(),
    )
    return [ClientContractPricesExpiringV1.model_validate(r.payload["data"]) for r in rows]


async def test_contract_prices_ending_soon_are_announced_once_per_client_and_end_date(pricing):
    acme = await seed_client(pricing, external_id="ACME")
    beta = await seed_client(pricing, external_id="BETA")
    await seed_skus(pricing, [(f"S{n}", None, None) for n in range(1, 9)])
    today = utcnow().date()
    soon, later = today + timedelta(days=5), today + timedelta(days=10)
    await _contract(pricing, acme, "S2", soon)
    await _contract(pricing, acme, "S1", soon)
    await _contract(pricing, acme, "S4", later)
    await _contract(pricing, acme, "S3", soon)  # continued by a new price from its end on
    await _contract(pricing, acme, "S3", None, valid_from=soon, price=1100)
    await _contract(pricing, acme, "S5", today + timedelta(days=30))  # beyond the 14 days
    await _contract(pricing, acme, "S6", today)  # ended today already
    await _contract(pricing, acme, "S7", None)  # open-ended
    await _contract(pricing, beta, "S1", today + timedelta(days=3))
    settings = pricing.state.settings

    async with pricing.state.sessionmaker() as session, session.begin():
        assert await announce_expiring_prices(session, settings) == 2
    found = {e.company_id: e for e in await _expiring(pricing)}
    assert found[acme].skus_count == 3
    assert found[acme].skus == ["S1", "S2", "S4"]  # earliest ending first, then by SKU
    assert (found[acme].earliest_valid_to, found[acme].last_day) == (
        soon,
        soon - timedelta(days=1),
    )
    assert (found[beta].skus_count, found[beta].skus) == (1, ["S1"])

    async with pricing.state.sessionmaker() as session, session.begin():
        assert await announce_expiring_prices(session, settings) == 0  # nothing new
    await _contract(pricing, acme, "S8", today + timedelta(days=7))  # a new end date
    async with pricing.state.sessionmaker() as session, session.begin():
        assert await announce_expiring_prices(session, settings) == 1
    newest = (await _expiring(pricing))[-1]
    assert (newest.company_id, newest.skus, newest.skus_count) == (acme, ["S8"], 1)


async def test_the_daily_check_runs_in_the_service_and_survives_a_restart(start_app):
    first = await start_app("pricing", run_workers=True, contract_expiry_check_seconds=0.2)
    acme = await seed_client(first, external_id="ACME")
    await seed_skus(first, [("S1", None, None)])
    await _contract(first, acme, "S1", utcnow().date() + timedelta(days=2))
    async with asyncio.timeout(30):
        while not await _expiring(first):
            await asyncio.sleep(0.1)
    second = await start_app("pricing", run_workers=True, contract_expiry_check_seconds=0.2)
    await asyncio.sleep(1)  # several checks of both processes
    assert len(await _expiring(second)) == 1
