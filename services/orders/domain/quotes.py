"""Quote rules: what a sales manager may offer, and what may happen to a quote in each state.

A manager's price may go below the client's own price by at most the commercial policy's
allowance, and never below the SKU's floor. An offer is valid through its date (inclusive,
UTC); after it the quote cannot be accepted, only asked again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal

# action -> the states it may start from
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "offer": ("requested", "changes_requested", "offered"),
    "decline": ("requested", "changes_requested", "offered"),
    "request_changes": ("offered",),
    "accept": ("offered",),
}


def effective_status(status: str, valid_until: date | None, today: date) -> str:
    """What the quote is now: an offer past its date is expired, whatever is stored."""
    if status == "offered" and valid_until is not None and valid_until < today:
        return "expired"
    return status


@dataclass(frozen=True)
class QuotedLine:
    line_no: int
    sku: str
    client_price_minor: int | None
    floor_minor: int | None
    offered_minor: int


@dataclass(frozen=True)
class OfferProblem:
    line_no: int
    message: str


def lowest_allowed(line: QuotedLine, max_discount_percent: Decimal) -> int | None:
    """The lowest price the manager may offer: the floor, or the client's price less the
    allowance, whichever is higher (rounded up: never a minor unit below the limit)."""
    limits = []
    if line.floor_minor is not None:
        limits.append(line.floor_minor)
    if line.client_price_minor is not None:
        share = (Decimal(100) - max_discount_percent) / 100
        limits.append(int((line.client_price_minor * share).to_integral_value(ROUND_CEILING)))
    return max(limits) if limits else None


def offer_problems(lines: list[QuotedLine], max_discount_percent: Decimal) -> list[OfferProblem]:
    problems = []
    for line in lines:
        if line.offered_minor <= 0:
            problems.append(OfferProblem(line.line_no, "the price must be above zero"))
            continue
        lowest = lowest_allowed(line, max_discount_percent)
        if lowest is not None and line.offered_minor < lowest:
            why = (
                "the floor"
                if line.floor_minor is not None and lowest == line.floor_minor
                else f"the client's price less {max_discount_percent} %"
            )
            problems.append(
                OfferProblem(
                    line.line_no,
                    f"{line.sku}: {line.offered_minor} is below {lowest}, {why}",
                )
            )
    return problems


def validity_problem(valid_until: date, today: date, max_days: int) -> str | None:
    if valid_until < today:
        return "must not be in the past"
    if (valid_until - today).days > max_days:
        return f"may be at most {max_days} days ahead"
    return None
