"""Where a reservation takes each line's stock from when several warehouses hold the SKU.

A line naming a warehouse takes only from it. Any other line takes from every warehouse
holding the SKU, in this order: the buyer's preferred warehouse, then the one with the most
available (it serves the most of the line, so the fewest splits), then by code, so the same
stock always gives the same answer. A line is split over warehouses when one is not enough,
which is why `available` (summed over every warehouse) is what a checkout can have. Lines of
one SKU draw in turn, the first line first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class Short:
    """A line the warehouses cannot fill: what they have for it."""

    row: int  # 1-based, as the lines were given
    sku: str
    available: Decimal
    warehouse: str | None  # the warehouse the line named, if it named one


def draw_order(
    available: Mapping[tuple[str, str], Decimal], preferred: str | None
) -> dict[str, list[str]]:
    """SKU -> its warehouses in the order lines draw from them."""
    ranked = sorted(
        available, key=lambda k: (k[0], k[1] != preferred, -max(available[k], ZERO), k[1])
    )
    order: dict[str, list[str]] = {}
    for sku, warehouse in ranked:
        order.setdefault(sku, []).append(warehouse)
    return order


def allocate(
    wanted: Sequence[tuple[str, str | None, Decimal]],
    available: Mapping[tuple[str, str], Decimal],
    preferred: str | None = None,
) -> tuple[dict[tuple[str, str], Decimal], list[Short]]:
    """The quantity to hold per (sku, warehouse) for `wanted` (sku, warehouse or None,
    quantity) lines, given what each (sku, warehouse) has available; and the lines short of
    stock (then nothing is to be held)."""
    left = what_is_left(available)
    order = draw_order(available, preferred)
    taken: dict[tuple[str, str], Decimal] = {}
    short: list[Short] = []
    for row, (sku, named, quantity) in enumerate(wanted, start=1):
        plan, need = draw(sku, named, quantity, order, left)
        if need > 0:
            short.append(Short(row, sku, quantity - need, named))
            continue
        take_from(left, plan)
        for key, take in plan:
            taken[key] = taken.get(key, ZERO) + take
    return (taken, []) if not short else ({}, short)


def what_is_left(available: Mapping[tuple[str, str], Decimal]) -> dict[tuple[str, str], Decimal]:
    """What lines may draw per (sku, warehouse) before any draws: none below 0."""
    return {key: max(quantity, ZERO) for key, quantity in available.items()}


Plan = list[tuple[tuple[str, str], Decimal]]  # ((sku, warehouse), quantity) to take


def draw(
    sku: str,
    named: str | None,
    quantity: Decimal,
    order: Mapping[str, Sequence[str]],
    left: Mapping[tuple[str, str], Decimal],
) -> tuple[Plan, Decimal]:
    """What a line of `quantity` would take: from the warehouse it `named`, else from the
    SKU's warehouses in their draw `order`, given what is `left` in each; and the quantity
    they cannot serve (0 when they can)."""
    need, plan = quantity, []
    for warehouse in [named] if named is not None else order.get(sku, []):
        take = min(left.get((sku, warehouse), ZERO), need)
        if take > 0:
            plan.append(((sku, warehouse), take))
            need -= take
        if need == 0:
            break
    return plan, need


def take_from(left: dict[tuple[str, str], Decimal], plan: Plan) -> None:
    """What is left once a line takes its `plan`: the next lines of the SKU draw from that."""
    for key, take in plan:
        left[key] -= take


def same_request(
    wanted: Sequence[tuple[str, str | None, Decimal]], held: Sequence[tuple[str, str, Decimal]]
) -> bool:
    """Whether a reservation holding `held` (sku, warehouse, quantity) is what `wanted` asks
    for: the same quantity of every SKU, and what a line named a warehouse for held there.
    Which warehouses the rest came from was this module's choice, so it is not compared."""
    asked: defaultdict[str, Decimal] = defaultdict(Decimal)
    named: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for sku, warehouse, quantity in wanted:
        asked[sku] += quantity
        if warehouse is not None:
            named[(sku, warehouse)] += quantity
    got: defaultdict[str, Decimal] = defaultdict(Decimal)
    for sku, _, quantity in held:
        got[sku] += quantity
    at = {(sku, warehouse): quantity for sku, warehouse, quantity in held}
    return asked == got and all(at.get(key, ZERO) >= q for key, q in named.items())
