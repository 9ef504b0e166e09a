"""Whether the client's credit lets an order through, and what to tell the buyer if not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.display import money

Verdict = Literal["ok", "refuse", "hold"]


@dataclass(frozen=True)
class CreditStanding:
    currency: str
    overdue_minor: int
    available_credit_minor: int | None  # None: no limit applies


@dataclass(frozen=True)
class CreditDecision:
    verdict: Verdict
    reason: str | None = None


def decide_credit(
    standing: CreditStanding,
    order_total_minor: int,
    order_currency: str,
    *,
    overdue_threshold_minor: int,
    on_breach: Literal["refuse", "hold"],
) -> CreditDecision:
    """Overdue debt above the threshold, or an order beyond the credit left, breaches credit;
    the policy says whether the order is refused or held for a manager."""
    if standing.overdue_minor > overdue_threshold_minor:
        reason = (
            f"overdue receivables of {money(standing.overdue_minor, standing.currency)} exceed "
            f"the {money(overdue_threshold_minor, standing.currency)} allowed; pay the overdue "
            "invoices first"
        )
        return CreditDecision(on_breach, reason)
    available = standing.available_credit_minor
    if available is not None:
        if order_currency != standing.currency:
            return CreditDecision(
                on_breach,
                f"credit is kept in {standing.currency}; the order is in {order_currency}",
            )
        if order_total_minor > available:
            reason = (
                f"the order total {money(order_total_minor, order_currency)} exceeds the credit "
                f"left, {money(available, standing.currency)}"
            )
            return CreditDecision(on_breach, reason)
    return CreditDecision("ok")
