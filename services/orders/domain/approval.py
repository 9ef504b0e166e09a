"""The company's own rules: which orders wait for its admin before they go to ERP."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.display import money


@dataclass(frozen=True)
class Rule:
    above_minor: int | None
    currency: str | None
    buyer: str | None


def approval_reason(
    rules: Iterable[Rule], total_minor: int, currency: str, buyer: str
) -> str | None:
    """Why this order needs approval, or None. A rule with both an amount and a buyer needs both."""
    for rule in rules:
        amount_hit = rule.above_minor is None or (
            rule.currency == currency and total_minor > rule.above_minor
        )
        buyer_hit = rule.buyer is None or rule.buyer == buyer
        if amount_hit and buyer_hit:
            parts = []
            if rule.above_minor is not None:
                parts.append(f"orders above {money(rule.above_minor, rule.currency or '')}")
            if rule.buyer is not None:
                parts.append("orders from this buyer")
            return "company rule: " + " and ".join(parts) + " need approval"
    return None
