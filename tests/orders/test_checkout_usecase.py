"""The checkout use case called as a function, without HTTP: its decision on what pricing and
accounts said (a plain function), and the whole flow with a session maker, the settings and
the real accounts, catalog and pricing apps (ASGI) as its collaborators."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from decimal import Decimal

import pytest

from services.orders.clients.pricing import PricedCart, PricedLine
from services.orders.domain.approval import Rule
from services.orders.domain.credit import CreditStanding
from services.orders.settings import Settings
from services.orders.usecases.checkout import PreconditionRequired, check_out
from services.orders.usecases.checkout_decision import CreditRefused, decide
from services.orders.usecases.context import Collaborators
from shared.auth import Role
from shared.problems import Conflict, Unprocessable
from shared.testing.fixtures import principal
from tests.orders.test_checkout import count
from tests.orders.world import new_cart, open_shop, stock_of

BUYER = principal(Role.BUYER, company_id=uuid.uuid4(), subject="buyer-1")
MANAGER = principal(Role.SALES_MANAGER, subject="manager-1")
GOOD = CreditStanding(currency="EUR", overdue_minor=0, available_credit_minor=None)


def priced(*prices: int | None) -> PricedCart:
    return PricedCart(
        currency="EUR",
        priced_on=date(2026, 12, 1),
        lines=[
            PricedLine(f"SKU-{i}", Decimal(2), price, price, "base", None)
            for i, price in enumerate(prices)
        ],
    )


def settings(**values) -> Settings:
    return Settings(**values)


# The decision


def test_a_priced_cart_within_credit_and_rules_is_placed():
    decision = decide(settings(), BUYER, priced(1_000, 250), GOOD, [])
    assert (decision.status, decision.hold, decision.totals) == ("placed", None, [2_000, 500])


def test_a_line_without_a_price_refuses_naming_its_row():
    with pytest.raises(Unprocessable) as refused:
        decide(settings(), BUYER, priced(1_000, None), GOOD, [])
    assert [(e.row, e.message) for e in refused.value.errors] == [(2, "SKU-1: no price")]


def test_an_order_below_the_minimum_is_refused_one_at_it_goes_through():
    assert decide(settings(min_order_total_minor=2_000), BUYER, priced(1_000), GOOD, []).status
    with pytest.raises(Unprocessable) as refused:
        decide(settings(min_order_total_minor=2_001), BUYER, priced(1_000), GOOD, [])
    assert refused.value.slug == "below-minimum-order"


def test_a_company_rule_holds_a_buyers_order_before_credit_is_asked_but_not_staffs():
    rules = [Rule(above_minor=1_000, currency="EUR", buyer=None)]
    broke = CreditStanding(currency="EUR", overdue_minor=10**6, available_credit_minor=0)
    waiting = decide(settings(), BUYER, priced(1_000), broke, rules)
    assert waiting.status == "pending_approval" and "orders above" in waiting.hold
    # Staff ordering on behalf skip the company's own rules; credit still applies.
    with pytest.raises(CreditRefused):
        decide(settings(), MANAGER, priced(1_000), broke, rules)


def test_a_credit_breach_is_refused_or_held_as_the_policy_says():
    short = CreditStanding(currency="EUR", overdue_minor=0, available_credit_minor=1_999)
    with pytest.raises(CreditRefused) as refused:
        decide(settings(credit_on_breach="refuse"), BUYER, priced(1_000), short, [])
    assert "exceeds the credit left" in refused.value.detail
    held = decide(settings(credit_on_breach="hold"), BUYER, priced(1_000), short, [])
    assert held.status == "credit_hold" and held.hold.startswith("waiting for a sales manager")


# The flow, with its collaborators


def buyer_of(shop):
    return principal(Role.BUYER, company_id=shop.company_id, subject=shop.buyer_id)


async def test_the_flow_places_the_order_and_the_same_key_finds_it_again(shop):
    collaborators = Collaborators.of(shop.orders)
    cart_id = uuid.UUID(await new_cart(shop, {"CE-200": "3"}))
    placed = await check_out(collaborators, buyer_of(shop), cart_id, "key-1", need="Tower B")
    assert placed.created and placed.view.order.status == "placed"
    assert placed.view.order.need == "Tower B"
    assert [(x.sku, x.quantity) for x in placed.view.lines] == [("CE-200", 3)]
    assert (await stock_of(shop, "CE-200"))["reserved"] == "3.000"
    again = await check_out(collaborators, buyer_of(shop), cart_id, "key-1")
    assert not again.created and again.view.order.id == placed.view.order.id
    assert await count(shop.orders, "orders") == 1
    assert await count(shop.orders, "cart_lines") == 0


async def test_the_flow_needs_a_key_and_a_cart_with_lines(shop):
    collaborators = Collaborators.of(shop.orders)
    cart_id = uuid.UUID(await new_cart(shop))
    with pytest.raises(PreconditionRequired):
        await check_out(collaborators, buyer_of(shop), cart_id, None)
    with pytest.raises(Conflict) as empty:
        await check_out(collaborators, buyer_of(shop), cart_id, "key-1")
    assert empty.value.slug == "empty-cart"
    assert await count(shop.orders, "checkouts") == 0  # the key stays free


async def test_a_refused_checkout_holds_nothing_and_frees_its_key(start_app):
    shop = await open_shop(start_app, credit_limit_minor=1_000)
    refusing = Collaborators.of(shop.orders)
    cart_id = uuid.UUID(await new_cart(shop, {"CE-200": "2"}))  # 2 x 12.50 EUR > 10 EUR
    with pytest.raises(CreditRefused):
        await check_out(refusing, buyer_of(shop), cart_id, "key-1")
    assert await count(shop.orders, "checkouts", "state = 'failed'") == 1
    assert (await stock_of(shop, "CE-200"))["reserved"] == "0.000"
    # The same key, with the policy to hold instead: the order waits for a sales manager.
    holding = dataclasses.replace(
        refusing, settings=refusing.settings.model_copy(update={"credit_on_breach": "hold"})
    )
    held = await check_out(holding, buyer_of(shop), cart_id, "key-1")
    assert held.created and held.view.order.status == "credit_hold"
    assert (await stock_of(shop, "CE-200"))["reserved"] == "2.000"
