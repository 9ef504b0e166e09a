"""The orders domain's rules, called as plain functions (no server, no database): credit,
the company's approval rules, the order state machine and delays, each decision path and its
edges."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.orders.domain.approval import Rule, approval_reason
from services.orders.domain.credit import CreditStanding, decide_credit
from services.orders.domain.delays import on_time, slipped
from services.orders.domain.lifecycle import (
    TRANSITIONS,
    TransitionRefused,
    check_transition,
    ships_with_first_part,
)


def standing(overdue: int = 0, available: int | None = None, currency: str = "EUR"):
    return CreditStanding(
        currency=currency, overdue_minor=overdue, available_credit_minor=available
    )


def decide(s: CreditStanding, total: int, currency: str = "EUR", *, threshold=0, on_breach="hold"):
    return decide_credit(s, total, currency, overdue_threshold_minor=threshold, on_breach=on_breach)


# Credit


def test_a_client_without_a_limit_or_debt_orders_any_amount():
    assert decide(standing(), 10**12).verdict == "ok"


def test_overdue_debt_up_to_the_threshold_lets_the_order_through_above_it_breaches():
    assert decide(standing(overdue=5_000), 100, threshold=5_000).verdict == "ok"
    over = decide(standing(overdue=5_001), 100, threshold=5_000)
    assert over.verdict == "hold" and over.reason.startswith("overdue receivables of")


@pytest.mark.parametrize("policy", ["refuse", "hold"])
def test_the_policy_says_what_a_breach_does(policy):
    assert decide(standing(available=100), 101, on_breach=policy).verdict == policy
    assert decide(standing(overdue=1), 1, on_breach=policy).verdict == policy


def test_an_order_of_exactly_the_credit_left_goes_through_one_unit_more_does_not():
    assert decide(standing(available=10_000), 10_000).verdict == "ok"
    assert decide(standing(available=10_000), 10_001).verdict == "hold"
    assert decide(standing(available=0), 1).verdict == "hold"


def test_overdue_debt_is_judged_before_the_credit_left():
    both = decide(standing(overdue=9, available=0), 1, threshold=0)
    assert both.reason.startswith("overdue receivables")


def test_credit_kept_in_another_currency_cannot_cover_the_order():
    decision = decide(standing(available=10**9, currency="USD"), 1, "EUR")
    assert decision.verdict == "hold"
    assert decision.reason == "credit is kept in USD; the order is in EUR"
    # Without a limit the currency does not matter: there is nothing to compare.
    assert decide(standing(currency="USD"), 1, "EUR").verdict == "ok"


# Approval rules


def test_no_rule_no_approval():
    assert approval_reason([], 10**9, "EUR", "buyer-1") is None


def test_an_amount_rule_holds_orders_above_it_in_its_currency_only():
    rule = Rule(above_minor=100_000, currency="EUR", buyer=None)
    assert approval_reason([rule], 100_000, "EUR", "b") is None  # at the amount: not above
    assert approval_reason([rule], 100_001, "EUR", "b") is not None
    assert approval_reason([rule], 10**9, "USD", "b") is None


def test_a_buyer_rule_holds_every_order_of_that_buyer():
    rule = Rule(above_minor=None, currency=None, buyer="intern")
    assert approval_reason([rule], 1, "EUR", "intern") == (
        "company rule: orders from this buyer need approval"
    )
    assert approval_reason([rule], 10**9, "EUR", "chief") is None


def test_a_rule_with_an_amount_and_a_buyer_needs_both():
    rule = Rule(above_minor=1_000, currency="EUR", buyer="intern")
    assert approval_reason([rule], 1_001, "EUR", "chief") is None
    assert approval_reason([rule], 999, "EUR", "intern") is None
    assert approval_reason([rule], 1_001, "EUR", "intern") == (
        "company rule: orders above €10.00 and orders from this buyer need approval"
    )


def test_the_first_rule_that_applies_gives_the_reason():
    rules = [
        Rule(above_minor=None, currency=None, buyer="other"),
        Rule(above_minor=500, currency="EUR", buyer=None),
        Rule(above_minor=None, currency=None, buyer="intern"),
    ]
    assert "orders above" in approval_reason(rules, 501, "EUR", "intern")


# The order state machine


def test_a_repeat_of_the_current_status_is_harmless_even_where_nothing_may_follow():
    for status in TRANSITIONS:
        check_transition(status, status)


def test_a_move_the_machine_does_not_allow_is_refused_naming_what_is_allowed():
    check_transition("placed", "confirmed")
    with pytest.raises(
        TransitionRefused, match=r"a shipped order cannot become cancelled \(allowed: delivered\)"
    ):
        check_transition("shipped", "cancelled")
    with pytest.raises(TransitionRefused, match=r"\(allowed: nothing\)"):
        check_transition("delivered", "placed")


def test_delivered_and_cancelled_are_the_end():
    assert TRANSITIONS["delivered"] == TRANSITIONS["cancelled"] == frozenset()
    assert all("cancelled" not in TRANSITIONS[s] for s in ("shipped", "delivered"))


def test_the_first_shipment_ships_the_order_later_ones_do_not():
    assert ships_with_first_part("placed") is True
    assert ships_with_first_part("confirmed") is True
    assert ships_with_first_part("shipped") is False


@pytest.mark.parametrize("status", ["pending_approval", "credit_hold", "delivered", "cancelled"])
def test_an_order_that_cannot_ship_refuses_a_shipment(status):
    with pytest.raises(TransitionRefused, match=f"a {status} order cannot ship"):
        ships_with_first_part(status)


def test_only_a_later_date_is_a_slip():
    day = date(2026, 11, 25)
    assert slipped(day, day + timedelta(days=1)) is True
    assert slipped(day, day) is False
    assert slipped(day, day - timedelta(days=1)) is False  # earlier: no delay
    assert slipped(None, day) is False  # the first promise
    assert slipped(day, None) is False


def test_on_time_is_by_the_earliest_date_promised():
    first, later = date(2026, 11, 25), date(2026, 11, 28)
    assert on_time(first, first, None) is True
    assert on_time(first + timedelta(days=1), first, None) is False
    assert on_time(later, later, moved_from=first) is False  # by the new date: still late
    assert on_time(first, later, moved_from=first) is True  # by the first date after all
    assert on_time(later, None, None) is None  # nothing promised
