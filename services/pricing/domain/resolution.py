"""How one cart line gets its price, and why: plain Python, no database.

The store gathers every candidate for a (client, SKU) in one batched query; this module decides.
Order of precedence: a contract price (the client's contract rows and its factored matrix
list, of which a contract row of the same tier replaces the price), then the lists assigned
to the client (highest priority first), then its client group's list, then the base list.
A contract price is already the net price agreed with the client; list prices then get the
client discount, the ladder discount and a promotion, one after the other. Whatever the
result, it never goes below the SKU's floor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import IntEnum


class Source(IntEnum):
    """Where a price comes from; a lower value wins."""

    CONTRACT = 0
    ASSIGNED_LIST = 1
    GROUP_LIST = 2
    BASE_LIST = 3


@dataclass(frozen=True)
class Candidate:
    """One price row that could apply: a list entry or a contract price, with its tier."""

    source: Source
    origin: str  # the list's code, or "contract"
    priority: int  # among assigned lists: higher wins
    min_qty: Decimal
    price_minor: int
    currency: str
    valid_from: date | None = None  # inclusive
    valid_to: date | None = None  # exclusive: valid_to is the first day it no longer applies
    # From the client's factored matrix list (source CONTRACT): the client's own contract
    # row of the same tier replaces it, as the factoring stored that cell as an exception.
    from_matrix: bool = False

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to
        )


@dataclass(frozen=True)
class Discount:
    kind: str  # client, ladder, promotion
    percent: Decimal  # 5 means 5 % off
    label: str


@dataclass(frozen=True)
class Step:
    rule: str
    detail: str
    price_minor: int | None = None


@dataclass(frozen=True)
class Loser:
    origin: str
    price_minor: int
    reason: str


@dataclass
class LinePrice:
    sku: str
    quantity: Decimal
    currency: str
    unit_price_minor: int | None  # None: no price for this client (not sold to it)
    list_price_minor: int | None
    rule: str  # what produced the final price
    next_tier: tuple[Decimal, int] | None = None  # (min quantity, unit price) of the next tier
    base_price_minor: int | None = None  # the base list's price of the tier, whoever won
    steps: list[Step] = field(default_factory=list)
    losers: list[Loser] = field(default_factory=list)
    replaced: list[Candidate] = field(default_factory=list)  # matrix prices a contract row replaced


def rule_of(source: Source, origin: str) -> str:
    """The rule name of a price's origin: `contract`, or e.g. `assigned_list:DEALERS`."""
    return "contract" if source == Source.CONTRACT else f"{source.name.lower()}:{origin}"


def _rank(candidate: Candidate) -> tuple[int, int, str]:
    return (candidate.source, -candidate.priority, candidate.origin)


def _percent_off(price_minor: int, percent: Decimal) -> int:
    net = Decimal(price_minor) * (Decimal(100) - percent) / Decimal(100)
    return int(net.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def resolve_line(
    sku: str,
    quantity: Decimal,
    *,
    day: date,
    currency: str,
    candidates: list[Candidate],
    client_discount: Discount | None = None,
    ladder_discount: Discount | None = None,
    promotion: Discount | None = None,
    floor_minor: int | None = None,
) -> LinePrice:
    line = LinePrice(sku, quantity, currency, None, None, rule="no price")
    usable: list[Candidate] = []
    for c in candidates:
        if c.currency != currency:
            line.losers.append(Loser(c.origin, c.price_minor, f"priced in {c.currency}"))
        elif not c.valid_on(day):
            line.losers.append(Loser(c.origin, c.price_minor, f"not valid on {day.isoformat()}"))
        else:
            usable.append(c)
    # Only the client's own contract rows replace its matrix list's price of the same tier;
    # a list row never does (it is a weaker origin and loses below).
    contract_tiers = {
        c.min_qty for c in usable if c.source == Source.CONTRACT and not c.from_matrix
    }
    line.replaced = [c for c in usable if c.from_matrix and c.min_qty in contract_tiers]
    usable = [c for c in usable if not (c.from_matrix and c.min_qty in contract_tiers)]

    on_base = [c for c in usable if c.source == Source.BASE_LIST and c.min_qty <= quantity]
    if on_base:  # as the winner is chosen: the strongest origin, then its highest tier
        first = min(map(_rank, on_base))
        tier = max((c for c in on_base if _rank(c) == first), key=lambda c: c.min_qty)
        line.base_price_minor = tier.price_minor

    # The strongest origin that has a tier for this quantity wins; its other tiers give the
    # next level; every other origin loses to it.
    by_origin: dict[tuple[int, int, str], list[Candidate]] = {}
    for c in usable:
        by_origin.setdefault(_rank(c), []).append(c)
    winner: Candidate | None = None
    for rank in sorted(by_origin):
        tiers = sorted(by_origin[rank], key=lambda c: c.min_qty)
        reached = [t for t in tiers if t.min_qty <= quantity]
        if winner is not None:
            best = reached[-1] if reached else tiers[0]
            line.losers.append(Loser(best.origin, best.price_minor, f"{winner.origin} comes first"))
            continue
        if not reached:
            line.losers.append(
                Loser(tiers[0].origin, tiers[0].price_minor, f"needs at least {tiers[0].min_qty}")
            )
            continue
        winner = reached[-1]
        above = [t for t in tiers if t.min_qty > quantity]
        if above:
            line.next_tier = (above[0].min_qty, above[0].price_minor)
    if winner is None:
        return line

    price = winner.price_minor
    line.list_price_minor = price
    line.rule = rule_of(winner.source, winner.origin)
    line.steps.append(Step(line.rule, f"tier from {winner.min_qty} in {winner.origin}", price))
    if winner.source != Source.CONTRACT:
        for discount in (client_discount, ladder_discount, promotion):
            if discount is not None and discount.percent > 0:
                price = _percent_off(price, discount.percent)
                line.rule = f"{discount.kind}:{discount.label}"
                line.steps.append(Step(line.rule, f"{discount.percent} % off", price))
    if floor_minor is not None and price < floor_minor:
        price = floor_minor
        line.rule = "floor"
        line.steps.append(Step("floor", "raised to the SKU's floor price", price))
    line.unit_price_minor = price
    if line.next_tier is not None:
        # What the client would pay at the next tier: the same discounts and floor apply.
        next_qty, next_price = line.next_tier
        if winner.source != Source.CONTRACT:
            for discount in (client_discount, ladder_discount, promotion):
                if discount is not None and discount.percent > 0:
                    next_price = _percent_off(next_price, discount.percent)
        if floor_minor is not None and next_price < floor_minor:
            next_price = floor_minor
        line.next_tier = (next_qty, next_price)
    return line
