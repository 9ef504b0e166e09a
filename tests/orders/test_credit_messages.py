"""What a buyer reads when credit or a company rule stops an order: money in units of its
currency, not minor units."""

from __future__ import annotations

from services.orders.domain.approval import Rule, approval_reason
from services.orders.domain.credit import CreditStanding, decide_credit


def test_an_overdue_refusal_names_the_debt_in_money():
    standing = CreditStanding(currency="EUR", overdue_minor=420000, available_credit_minor=None)
    decision = decide_credit(standing, 1000, "EUR", overdue_threshold_minor=0, on_breach="refuse")
    assert decision.reason == (
        "overdue receivables of €4,200.00 exceed the €0.00 allowed; pay the overdue invoices first"
    )


def test_the_credit_left_and_the_approval_line_in_money():
    standing = CreditStanding(currency="JPY", overdue_minor=0, available_credit_minor=5000)
    decision = decide_credit(standing, 7500, "JPY", overdue_threshold_minor=0, on_breach="hold")
    assert decision.reason == "the order total ¥7,500 exceeds the credit left, ¥5,000"
    rule = Rule(above_minor=1_000_000, currency="EUR", buyer=None)
    assert approval_reason([rule], 2_000_000, "EUR", "b") == (
        "company rule: orders above €10,000.00 need approval"
    )
