"""Each built-in rule fires on its event and on no other, through the real broker; a redelivered
event sends nothing twice; a company's people never get another company's messages."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import timedelta

from services.notifications.domain import rules as domain
from services.notifications.migrations.builtin_seed import frozen
from services.notifications.usecases.builtins import builtin_rules
from shared.clock import today, utcnow
from shared.contracts.accounts import CompanyCreditChangedV1, InvitationCreatedV1
from shared.contracts.analytics import (
    ClientCrossSellOfferV1,
    ClientKeySkuOutOfStockV1,
    ClientRegularSkuPricesChangedV1,
    CrossSellSuggestion,
    PriceMove,
    SuggestedSku,
)
from shared.contracts.catalog import StockChangedV1
from shared.contracts.orders import (
    BackInStock,
    ListRef,
    OrderCancelledV1,
    OrderConfirmedV1,
    OrderDelayedV1,
    OrderDeliveredV1,
    OrderDocumentAddedV1,
    OrderPlacedV1,
    OrderShippedV1,
    QuoteAcceptedV1,
    QuoteChangesRequestedV1,
    QuoteDeclinedV1,
    QuoteOfferedV1,
    QuoteOpenedV1,
    QuoteRequestedV1,
    RequisitionStockBackV1,
)
from shared.contracts.pricing import (
    ClientContractPricesExpiringV1,
    ClientLadderProgressV1,
    LadderLevel,
)
from tests.notifications.world import (
    applied,
    companies_published,
    envelope,
    eventually,
    order_placed,
    publish,
    rows,
)


def one_event_of_each_type(company_id: uuid.UUID) -> list:
    now, order = utcnow(), uuid.uuid4()
    common = {"order_id": order, "company_id": company_id, "number": "ORD-1"}

    def quote(cls, **extra):
        return cls(quote_id=uuid.uuid4(), company_id=company_id, number="Q-1", actor="u", **extra)

    return [
        envelope(OrderPlacedV1(**common, currency="EUR", total_minor=125000, placed_at=now)),
        envelope(
            OrderConfirmedV1(**common, confirmed_at=now, promised_from=None, promised_to=None)
        ),
        envelope(OrderShippedV1(**common, shipped_at=now)),
        envelope(
            OrderDelayedV1(
                **common,
                reason="window_missed",
                previous_promised_to=today(),
                promised_from=None,
                promised_to=None,
                delayed_at=now,
            )
        ),
        envelope(
            OrderDeliveredV1(
                **common, delivered_at=now, promised_to=None, on_time=None, in_full=True, lines=[]
            )
        ),
        envelope(
            OrderCancelledV1(
                **common, currency="EUR", total_minor=125000, placed_at=now, cancelled_at=now
            )
        ),
        envelope(
            OrderDocumentAddedV1(
                order_id=order, company_id=company_id, document_id=uuid.uuid4(), kind="invoice"
            )
        ),
        envelope(quote(QuoteRequestedV1, currency="EUR")),
        envelope(
            quote(
                QuoteOfferedV1,
                currency="EUR",
                total_minor=90000,
                valid_until=today() + timedelta(days=10),
                revision=1,
            )
        ),
        envelope(quote(QuoteOpenedV1, revision=1)),
        envelope(quote(QuoteChangesRequestedV1, revision=1)),
        envelope(quote(QuoteDeclinedV1)),
        envelope(quote(QuoteAcceptedV1, revision=1, order_id=uuid.uuid4(), total_minor=90000)),
        envelope(
            CompanyCreditChangedV1(
                company_id=company_id,
                currency="EUR",
                credit_limit_minor=None,
                balance_minor=50000,
                overdue_minor=20000,
                oldest_overdue_date=today() - timedelta(days=8),
                purchase_limit_minor=None,
                available_credit_minor=None,
                changed_at=now,
            )
        ),
        envelope(
            event_type="client.churn_risk_raised.v1",
            topic="analytics.client",
            data={
                "client_id": str(company_id),
                "score": 80,
                "reason": "no order for twice the usual interval",
                "days_since_last_order": 60,
                "usual_gap_days": 30,
                "raised_at": now.isoformat(),
            },
        ),
        envelope(
            event_type="client.segment_changed.v1",
            topic="analytics.client",
            data={
                "client_id": str(company_id),
                "changes": [{"dimension": "abc_revenue", "previous": "B", "current": "A"}],
                "changed_at": now.isoformat(),
            },
        ),
        envelope(
            StockChangedV1(
                sku="SKU-1", warehouse="MAIN", on_hand=0, reserved=0, available=0, changed_at=now
            )
        ),
        envelope(
            InvitationCreatedV1(
                invitation_id=uuid.uuid4(),
                company_id=company_id,
                email="newcomer@example.com",
                role="buyer",
                invited_by=None,
                expires_at=now + timedelta(days=7),
            )
        ),
        *client_alerts(company_id),
    ]


def ladder_event(company_id: uuid.UUID, status: str, next_threshold: int, **extra):
    level = LadderLevel(threshold_minor=100000, discount_percent=2, bonus_percent=0)
    upper = LadderLevel(threshold_minor=next_threshold, discount_percent=5, bonus_percent=1)
    return ClientLadderProgressV1(
        company_id=company_id,
        status=status,
        ladder="VOLUME",
        period="month",
        period_start=today().replace(day=1),
        currency="EUR",
        turnover_minor=next_threshold - 20000,
        current_level=level,
        next_level=upper,
        left_minor=20000,
        changed_at=utcnow(),
        **extra,
    )


def expiring_event(company_id: uuid.UUID, valid_to):
    return ClientContractPricesExpiringV1(
        company_id=company_id,
        skus_count=2,
        earliest_valid_to=valid_to,
        last_day=valid_to - timedelta(days=1),
        skus=["KN-100", "CE-200"],
        found_at=utcnow(),
    )


def price_moves_event(company_id: uuid.UUID, change_id: uuid.UUID):
    return ClientRegularSkuPricesChangedV1(
        client_id=company_id,
        change_id=change_id,
        currency="EUR",
        skus=[
            PriceMove(
                sku="KN-100",
                name="Knauf board",
                quantity=10,
                old_unit_price_minor=1000,
                new_unit_price_minor=1100,
                change_percent=10,
            )
        ],
        changed_at=utcnow(),
    )


def client_alerts(company_id: uuid.UUID) -> list:
    """One event of each alert pricing, orders and analytics publish about a client."""
    now = utcnow()
    return [
        envelope(ladder_event(company_id, "near", 500000)),
        envelope(ladder_event(company_id, "reached", 900000)),
        envelope(expiring_event(company_id, today() + timedelta(days=10))),
        envelope(
            RequisitionStockBackV1(
                company_id=company_id,
                skus=[BackInStock(sku="KN-100", name="Knauf board", available=40)],
                lists=[ListRef(list_id=uuid.uuid4(), name="Tower B")],
                back_at=now,
            )
        ),
        envelope(
            ClientKeySkuOutOfStockV1(
                client_id=company_id,
                sku="CE-200",
                name="Tile glue",
                currency="EUR",
                revenue_minor=400000,
                revenue_share="0.4",
                last_bought_at=now,
                out_at=now,
            )
        ),
        envelope(price_moves_event(company_id, uuid.uuid4())),
        envelope(
            ClientCrossSellOfferV1(
                client_id=company_id,
                suggestions=[
                    CrossSellSuggestion(
                        category="primer",
                        peer_share="0.8",
                        reason="80 % of builders also buy primer",
                        skus=[SuggestedSku(sku="CT-17", name="Primer", peer_clients=4)],
                    )
                ],
                offered_at=now,
            )
        ),
    ]


def expected_rules(event_type: str, data: dict) -> set[str]:
    context = {"event": data, "company": {}, "segment": {}}
    return {
        r["code"]
        for r in builtin_rules()
        if r["event_type"] == event_type
        and domain.matches(domain.rule_from_row(r).conditions, context)
    }


async def test_each_builtin_rule_fires_on_its_event_only_once_and_only_for_its_company(
    start_app, kafka_bootstrap, smtp, notifications_settings
):
    smtp.start()
    app = await start_app("notifications", **notifications_settings)
    # people first: other topics are not ordered
    a, b = await companies_published(app, kafka_bootstrap, "Alpha LLC", "Beta LLC")
    events = one_event_of_each_type(a.id)
    await publish(kafka_bootstrap, *events)
    await applied(app, events)

    made = await rows(app, "SELECT * FROM messages WHERE event_type <> 'digest'")
    by_event: dict[str, set[str]] = defaultdict(set)
    for m in made:
        by_event[str(m["event_id"])].add(m["rule_code"])
    covered: set[str] = set()
    for _, _, env in events:
        short = domain.short_type(env.type)
        want = expected_rules(short, env.data)
        assert by_event.get(str(env.id), set()) == want, short
        covered |= want
    # every built-in rule was exercised; the sales rules have their own (test_sales_rules.py)
    builtin = {
        r["code"] for r in builtin_rules() if not r["event_type"].startswith("notifications.")
    }
    sales = {r["code"] for r in frozen("notifications_0005")["rules"]}
    assert covered - sales == builtin - sales

    # audiences: buyers = the company's buyers and admins; the manager gets the tasks
    recipients = {(m["rule_code"], m["recipient_id"]) for m in made}
    assert ("order.placed.email", a.buyer_id) in recipients
    assert ("order.placed.email", a.admin_id) in recipients
    assert ("finance.overdue.due", a.admin_id) in recipients
    assert ("finance.overdue.due", a.buyer_id) not in recipients
    assert ("churn.manager", a.manager_id) in recipients
    assert ("quote.requested.manager", a.manager_id) in recipients
    # nobody of Beta hears of Alpha's events
    assert not {m["recipient_id"] for m in made} & {b.admin_id, b.buyer_id, b.manager_id}

    async def emails_out():
        # Due, or taken by the worker (a taken email stays pending under a lease until the
        # SMTP server has it): either way not out yet.
        waiting = await rows(
            app,
            "SELECT count(*) AS n FROM messages WHERE channel = 'email' AND status = 'pending' "
            "AND (due_at <= :now OR attempts > 0)",
            now=utcnow(),
        )
        return waiting[0]["n"] == 0

    await eventually(emails_out)
    sent = await rows(app, "SELECT id, address FROM messages WHERE status = 'sent'")
    assert sent
    assert len(smtp.mailbox.received) == len(sent)
    assert not [
        m
        for m in smtp.mailbox.received
        if m["To"].startswith(("admin-" + str(b.admin_id), "buyer-" + str(b.buyer_id)))
    ]
    russian = smtp.mailbox.to(a.buyer_email)
    assert any(m["Subject"].startswith("Заказ ORD-1") for m in russian)  # default locale ru
    assert all(m["List-Unsubscribe"] for m in russian)

    # the broker delivers everything again: nothing new is made or sent
    before = len(made)
    duplicates = app.state.outcomes["duplicate"]
    await publish(kafka_bootstrap, *events)

    async def redelivered():
        return app.state.outcomes["duplicate"] >= duplicates + len(events)

    await eventually(redelivered)
    again = await rows(app, "SELECT count(*) AS n FROM messages WHERE event_type <> 'digest'")
    assert again[0]["n"] == before
    await eventually(emails_out)
    assert len(smtp.mailbox.received) == len(sent)


async def test_a_malformed_event_is_dead_lettered_and_the_rest_of_its_batch_applied(
    start_app, kafka_bootstrap, notifications_settings
):
    app = await start_app("notifications", **notifications_settings)
    [a] = await companies_published(app, kafka_bootstrap, "Alpha LLC")
    good = [order_placed(a.id, f"OK-{n}", total_minor=100) for n in range(2)]
    broken = envelope(
        event_type="order.placed.v1",
        topic=OrderPlacedV1.topic,
        data={"company_id": str(a.id), "number": "BROKEN"},  # no order id, total, currency
    )
    # one key: one partition, so the three arrive in one batch, the broken one in the middle
    for item in (good[0], broken, good[1]):
        item_topic, _, env = item
        await publish(kafka_bootstrap, (item_topic, str(a.id), env))
    await applied(app, good)

    async def dead_lettered():
        return app.state.outcomes["dead_lettered"] >= 1

    await eventually(dead_lettered, within=30)
    numbers = await rows(
        app, "SELECT DISTINCT subject FROM messages WHERE rule_code = 'order.placed.inbox'"
    )
    assert sorted(r["subject"] for r in numbers) == ["Заказ OK-0 оформлен", "Заказ OK-1 оформлен"]
