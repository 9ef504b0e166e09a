"""The resolution rules of `resolution.resolve_line`, for a whole cart at once, on arrays.

A 5,000-line cart is a handful of NumPy operations, not 5,000 Python calls. The candidates
arrive already filtered to the cart's currency and the day (the gatherer does that); this
module picks the winning origin and tier per line, applies discounts to list prices and the
floor. `tests/pricing` checks it against `resolve_line` on random carts, rule for rule.

Quantities are in thousandths (the unit precision of `min_qty`), percents in basis points,
so every comparison and rounding is integer arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from services.pricing.domain.resolution import Source

I64 = npt.NDArray[np.int64]
NO_PRICE = -1

# Sort key of an origin: source first, then higher priority, then the list id.
_SOURCE_SHIFT = 52
_PRIORITY_SHIFT = 32
_PRIORITY_BIAS = 1 << 19


def origin_key(source: npt.ArrayLike, priority: npt.ArrayLike, origin: npt.ArrayLike) -> I64:
    """One sortable int64 per candidate: a lower key is a stronger origin."""
    return (
        (np.asarray(source, np.int64) << _SOURCE_SHIFT)
        | ((_PRIORITY_BIAS - np.asarray(priority, np.int64)) << _PRIORITY_SHIFT)
        | np.asarray(origin, np.int64)
    )


def source_of(key: I64) -> I64:
    return key >> _SOURCE_SHIFT


def origin_of(key: I64) -> I64:
    return key & 0xFFFFFFFF


@dataclass
class Candidates:
    """Usable price rows for a cart: one entry per (line, origin, tier)."""

    line: I64
    key: I64  # origin_key
    min_qty: I64  # thousandths
    price: I64


@dataclass
class Adjustments:
    """Per line: discounts in basis points (0 = none) and the floor (NO_PRICE = none)."""

    client_bp: I64
    ladder_bp: I64
    promotion_bp: I64
    floor: I64


@dataclass
class Decided:
    """Per line; NO_PRICE where nothing applies."""

    unit_price: I64
    list_price: I64
    base_price: I64  # the base list's price of the tier reached, whoever won
    key: I64  # the winning origin (-1: none)
    tier_qty: I64  # min_qty of the winning tier
    next_qty: I64  # min_qty of the next tier (-1: none)
    next_price: I64
    # What produced the final price: 0 the origin, 1 client, 2 ladder, 3 promotion, 4 floor.
    last_step: npt.NDArray[np.int8]


CLIENT, LADDER, PROMOTION, FLOOR = 1, 2, 3, 4


def with_markup(price: Any, bp: Any) -> Any:
    """price * (1 + bp / 10000), rounded half up, in integers; bp < 0 is a markdown.

    The one formula for derived lists, factored matrix lists and discounts (as
    `resolution._percent_off` does with Decimals); works on ints, NumPy arrays and polars
    expressions alike.
    """
    return (price * (10_000 + bp) + 5_000) // 10_000


def usable_candidates(
    line: I64, source: I64, min_qty: I64, matrix: npt.NDArray[np.bool_], live: Any
) -> Any:
    """The live candidates that count. A price of the client's factored matrix list gives way
    to a live contract row of the client for the same line and tier (the exception the
    factoring kept); list rows (assigned, group, base) never replace it: they are weaker
    origins and lose to it in `decide`."""
    contract = live & (source == int(Source.CONTRACT)) & ~matrix
    tier = (line << 48) | min_qty
    return live & ~(matrix & np.isin(tier, tier[contract]))


def _first_per_line(lines: I64, order: I64) -> tuple[I64, I64]:
    """(line, index into the candidates) of the first candidate of each line in `order`."""
    ordered = lines[order]
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return ordered[first], order[first]


def decide(quantity: I64, candidates: Candidates, adjustments: Adjustments) -> Decided:
    n = len(quantity)
    c = candidates
    unit = np.full(n, NO_PRICE, np.int64)
    list_price = np.full(n, NO_PRICE, np.int64)
    key = np.full(n, -1, np.int64)
    tier = np.full(n, -1, np.int64)
    next_qty = np.full(n, -1, np.int64)
    next_price = np.full(n, NO_PRICE, np.int64)
    last = np.zeros(n, np.int8)

    reached = c.min_qty <= quantity[c.line]
    idx = np.flatnonzero(reached)
    # Strongest origin that reached a tier, then its highest tier reached.
    order = idx[np.lexsort((-c.min_qty[idx], c.key[idx], c.line[idx]))]
    won_lines, won = _first_per_line(c.line, order)
    unit[won_lines] = c.price[won]
    key[won_lines] = c.key[won]
    tier[won_lines] = c.min_qty[won]

    # The base list's own tier for the quantity, to show a client its terms against it: the
    # same order, base rows only.
    base = np.full(n, NO_PRICE, np.int64)
    base_lines, base_won = _first_per_line(
        c.line, order[source_of(c.key[order]) == int(Source.BASE_LIST)]
    )
    base[base_lines] = c.price[base_won]

    # The next tier: the winning origin's lowest tier above the quantity.
    above = np.flatnonzero(~reached & (c.key == key[c.line]))
    order = above[np.lexsort((c.min_qty[above], c.line[above]))]
    next_lines, nxt = _first_per_line(c.line, order)
    next_qty[next_lines] = c.min_qty[nxt]
    next_price[next_lines] = c.price[nxt]

    priced = unit != NO_PRICE
    list_price[priced] = unit[priced]
    on_list = priced & (source_of(key) != int(Source.CONTRACT))
    a = adjustments
    for step, bp in ((CLIENT, a.client_bp), (LADDER, a.ladder_bp), (PROMOTION, a.promotion_bp)):
        hit = on_list & (bp > 0)
        unit[hit] = with_markup(unit[hit], -bp[hit])
        last[hit] = step
    clamp = priced & (a.floor != NO_PRICE) & (unit < a.floor)
    unit[clamp] = a.floor[clamp]
    last[clamp] = FLOOR
    # The next tier as the client would pay it: the same discounts and floor.
    has_next = next_price != NO_PRICE
    for bp in (a.client_bp, a.ladder_bp, a.promotion_bp):
        hit = has_next & on_list & (bp > 0)
        next_price[hit] = with_markup(next_price[hit], -bp[hit])
    clamp = has_next & (a.floor != NO_PRICE) & (next_price < a.floor)
    next_price[clamp] = a.floor[clamp]
    return Decided(unit, list_price, base, key, tier, next_qty, next_price, last)
