"""The use cases' decision paths, each called with a session and its collaborators (the
settings, the upstreams), no HTTP: which recompute an event's clients get, what feedback
refuses, when a price check asks pricing, when running out of stock is told, what a sales
manager's views and plans hold."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.analytics.store import sales as sales_store
from services.analytics.usecases import plans, sales
from services.analytics.usecases.feedback import give_feedback
from services.analytics.usecases.key_sku_alerts import apply_stock_changes
from services.analytics.usecases.price_checks import check_next_price_change, queue_price_change
from services.analytics.usecases.recompute import recompute_dirty
from shared.auth import Role
from shared.contracts.pricing import PriceChangedV1
from shared.problems import Conflict, NotFound, Unprocessable
from shared.testing.fixtures import principal
from tests.analytics.world import (
    NOW,
    company,
    consumer,
    deliver,
    envelope,
    outbox,
    placed,
    product,
    sql,
    stock,
)


async def _apply(app, *events) -> None:
    """The events' facts, as the consumer writes them, without the recompute that follows."""
    applier = consumer(app)
    for event in events:
        await applier.apply(envelope(event))


async def _recompute_dirty(app, **settings) -> dict:
    definitions = app.state.settings.model_copy(update=settings)
    async with app.state.sessionmaker() as session, session.begin():
        return await recompute_dirty(session, definitions)


# Recompute -------------------------------------------------------------------------------------


async def test_a_currency_without_base_statistics_has_the_whole_base_recomputed(analytics):
    c = company(currency="ISK")
    await _apply(analytics, c, placed(c.company_id, 5, currency="ISK"))
    result = await _recompute_dirty(analytics)
    assert "skus" in result  # the full recompute's answer
    assert await sql(analytics, "SELECT count(*) FROM base_stats WHERE currency = 'ISK'") == [(1,)]


async def test_within_the_base_move_share_only_the_touched_client_is_recomputed(analytics):
    c, other = company(currency="HUF"), company(currency="HUF")
    await deliver(
        analytics,
        c,
        other,
        placed(c.company_id, 9, currency="HUF"),
        placed(other.company_id, 9, currency="HUF"),
    )
    await _apply(analytics, placed(c.company_id, 1, {"SKU-1": ("1", 10)}, currency="HUF"))
    result = await _recompute_dirty(analytics, base_move_share=0.99)
    assert result["clients"] == 1 and "skus" not in result


async def test_past_the_base_move_share_the_whole_base_is_recomputed(analytics):
    c = company(currency="HUF")
    await deliver(analytics, c, placed(c.company_id, 9, currency="HUF"))
    await _apply(analytics, placed(c.company_id, 1, {"SKU-1": ("1", 10)}, currency="HUF"))
    assert "skus" in await _recompute_dirty(analytics, base_move_share=0.0)


# Feedback --------------------------------------------------------------------------------------


async def test_feedback_is_refused_without_a_company_for_another_s_order_and_twice(analytics):
    c, other = company(), company()
    mine, theirs = placed(c.company_id, 3), placed(other.company_id, 3)
    await deliver(analytics, c, other, mine, theirs)
    buyer = principal(Role.BUYER, company_id=c.company_id)
    answer = {"order_id": mine.order_id, "touchpoint": "delivery", "nps": 10, "csat": None}
    settings = analytics.state.settings
    async with analytics.state.sessionmaker() as session, session.begin():
        with pytest.raises(Unprocessable):  # acting for no company
            await give_feedback(session, settings, principal(Role.BUYER), answer)
        with pytest.raises(Unprocessable) as foreign:
            await give_feedback(session, settings, buyer, {**answer, "order_id": theirs.order_id})
        assert foreign.value.errors[0].field == "order_id"
        row = await give_feedback(session, settings, buyer, answer)
        assert (row.client_id, row.nps) == (c.company_id, 10)
        with pytest.raises(Conflict):
            await give_feedback(session, settings, buyer, answer)
    # the answer counts in the client's figures at once
    metrics = await sql(
        analytics, "SELECT metrics FROM client_segments WHERE client_id = :c", c=c.company_id
    )
    assert metrics[0][0]["nps_average"] == 10


# Price checks ----------------------------------------------------------------------------------


async def test_a_price_change_no_client_bought_regularly_is_done_without_asking_pricing(
    start_app,
):
    # pricing is unreachable: asking it would fail the check
    analytics = await start_app(
        "analytics", recompute_interval_seconds=0, pricing_url="http://127.0.0.1:9"
    )
    c = company()
    await deliver(analytics, c, placed(c.company_id, 3))  # one month: not a regular SKU
    change = PriceChangedV1(
        change_id=uuid.uuid4(),
        cause="price_list.updated",
        client_ids=[c.company_id],
        changed_at=NOW - timedelta(days=3650),  # the oldest queued: checked first
    )
    settings, upstreams = analytics.state.settings, analytics.state.upstreams
    async with analytics.state.sessionmaker() as session, session.begin():
        await queue_price_change(session, change)
    async with analytics.state.sessionmaker() as session, session.begin():
        assert await check_next_price_change(session, upstreams, settings) is True
    done = await sql(
        analytics,
        "SELECT done_at IS NOT NULL, clients_told FROM price_checks WHERE change_id = :c",
        c=change.change_id,
    )
    assert done == [(True, 0)]
    assert await outbox(analytics, "regular_sku_prices_changed") == []


# Stock -----------------------------------------------------------------------------------------


async def test_only_a_sku_that_was_available_and_is_no_more_is_told_to_its_a_class_buyers(
    analytics,
):
    c = company()
    sku, unseen = f"KEY-{uuid.uuid4().hex[:6]}", f"NEW-{uuid.uuid4().hex[:6]}"
    await deliver(analytics, c, product(sku, "glue"), placed(c.company_id, 10, {sku: ("1", 900)}))
    settings = analytics.state.settings
    async with analytics.state.sessionmaker() as session, session.begin():
        # never seen in stock: not "run out"; in stock: nothing to tell
        assert await apply_stock_changes(session, settings, [stock(unseen, 0)]) == 0
        assert await apply_stock_changes(session, settings, [stock(sku, 4)]) == 0
    async with analytics.state.sessionmaker() as session, session.begin():
        assert await apply_stock_changes(session, settings, [stock(sku, 0, 1)]) == 1
    told = [e for e in await outbox(analytics, "key_sku_out_of_stock") if e["sku"] == sku]
    assert [e["client_id"] for e in told] == [str(c.company_id)]


# Sales views and plans -------------------------------------------------------------------------


async def test_a_sales_manager_sees_only_its_own_key_accounts_of_the_whole_base(analytics):
    manager = uuid.uuid4()
    mine, theirs = company(manager=manager), company(manager=uuid.uuid4())
    await deliver(
        analytics,
        mine,
        theirs,
        placed(mine.company_id, 5, {"SKU-1": ("1", 10**9)}),
        placed(theirs.company_id, 5, {"SKU-1": ("1", 10**9)}),
    )
    settings = analytics.state.settings.model_copy(update={"key_client_share": 0.0})
    scope = sales_store.Scope(principal(Role.SALES_MANAGER, subject=manager), "EUR")
    async with analytics.state.sessionmaker() as session:
        seen = await sales.key_accounts(session, settings, scope, "company")
        everyone = await sales.key_accounts(session, settings, sales_store.Scope(None), "company")
    assert {r["client_id"] for r in seen["clients"]} == {str(mine.company_id)}
    assert {str(mine.company_id), str(theirs.company_id)} <= {
        r["client_id"] for r in everyone["clients"]
    }
    # the share is of the whole company's sales, whoever asks
    share = {r["client_id"]: r["share"] for r in everyone["clients"]}
    assert seen["clients"][0]["share"] == share[str(mine.company_id)]


async def test_plan_versus_fact_is_refused_beyond_36_months_and_for_another_s_client(analytics):
    c = company(manager=uuid.uuid4())
    await deliver(analytics, c, placed(c.company_id, 3))
    first = NOW.date().replace(day=1)
    stranger = principal(Role.SALES_MANAGER)  # not c's manager
    head = principal(Role.HEAD_OF_SALES)
    async with analytics.state.sessionmaker() as session:
        with pytest.raises(NotFound):
            await plans.plan_vs_fact(session, stranger, c.company_id, first, first)
        with pytest.raises(Unprocessable):
            await plans.plan_vs_fact(
                session, head, c.company_id, first.replace(year=first.year - 3), first
            )
        months = await plans.plan_vs_fact(session, head, c.company_id, first, first)
    assert [(m["month"], m["plan_minor"]) for m in months] == [(first.strftime("%Y-%m"), None)]
