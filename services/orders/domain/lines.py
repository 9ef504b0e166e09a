"""What may go into a cart: quantities checked against the SKU's ordering rules, and quick
order's pasted lists read line by line, so every bad line is reported and the rest added."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal

from shared.fields import MAX_QUANTITY, QUANTITY_PLACES, plain_decimal

MAX_LINES = 5_000
SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class OrderingRules:
    unit: str
    min_order_qty: Decimal
    order_multiple: Decimal
    sellable: bool
    replacement_sku: str | None


@dataclass(frozen=True)
class WantedLine:
    row: int  # 1-based, as the buyer sees it in the file or the pasted text
    sku: str
    quantity: str | None  # as typed; None: the SKU's minimum
    unit: str | None = None  # a pack, a coil...: converted to the base unit by catalog


@dataclass(frozen=True)
class LineProblem:
    row: int
    sku: str
    field: str
    reason: str


def parse_pasted(text: str) -> list[WantedLine]:
    """Lines of `SKU [quantity [unit]]`, separated by spaces, tabs, commas or semicolons (as
    copied from a spreadsheet or an e-mail)."""
    wanted = []
    for row, line in enumerate(text.splitlines(), start=1):
        parts = [p for p in SEPARATORS.split(line.strip()) if p] + [None, None]
        if parts[0]:
            wanted.append(WantedLine(row, parts[0], parts[1], parts[2]))
    return wanted


def parse_csv(data: bytes) -> list[WantedLine]:
    """A CSV with columns `sku`, `quantity` and optionally `unit` (a header row); row 1 is the
    first record after the header, as in every feed."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
    if "sku" not in fields:
        raise ValueError("the file needs a header row with a `sku` column (and `quantity`)")
    quantity = fields.get("quantity") or fields.get("qty")
    unit = fields.get("unit")
    return [
        WantedLine(
            row,
            (record[fields["sku"]] or "").strip(),
            (record.get(quantity) or "").strip() or None if quantity else None,
            (record.get(unit) or "").strip() or None if unit else None,
        )
        for row, record in enumerate(reader, start=1)
        if any((v or "").strip() for v in record.values())
    ]


def quantity_problem(quantity: Decimal, rules: OrderingRules) -> str | None:
    if quantity <= 0:
        return "must be above 0"
    if quantity > MAX_QUANTITY:
        return f"must be at most {MAX_QUANTITY:,}"
    if quantity < rules.min_order_qty:
        return f"below the minimum order quantity {rules.min_order_qty.normalize():f}"
    if quantity % rules.order_multiple != 0:
        return f"must be a multiple of {rules.order_multiple.normalize():f}"
    return None


def sellable_problem(sku: str, rules: OrderingRules | None) -> str | None:
    if rules is None:
        return "unknown SKU"
    if not rules.sellable:
        instead = f"; order {rules.replacement_sku} instead" if rules.replacement_sku else ""
        return f"discontinued{instead}"
    return None


def check_lines(
    wanted: list[WantedLine], rules: dict[str, OrderingRules]
) -> tuple[dict[str, Decimal], list[LineProblem]]:
    """The quantities to add per SKU (repeated SKUs add up) and a problem per bad line."""
    good: dict[str, Decimal] = {}
    problems: list[LineProblem] = []
    for line in wanted:
        known = rules.get(line.sku)
        problem = sellable_problem(line.sku, known)
        if problem or known is None:
            problems.append(LineProblem(line.row, line.sku, "sku", problem or "unknown SKU"))
            continue
        quantity = plain_decimal(line.quantity) if line.quantity else known.min_order_qty
        if quantity is None:
            problems.append(LineProblem(line.row, line.sku, "quantity", "is not a number"))
            continue
        if quantity.as_tuple().exponent < -QUANTITY_PLACES:  # type: ignore[operator]
            problems.append(LineProblem(line.row, line.sku, "quantity", "has over 3 decimals"))
            continue
        problem = quantity_problem(quantity, known)
        if problem:
            problems.append(LineProblem(line.row, line.sku, "quantity", problem))
            continue
        good[line.sku] = good.get(line.sku, Decimal(0)) + quantity
    return good, problems


def line_total(unit_price_minor: int, quantity: Decimal) -> int:
    """Minor units, half up: 3 x 0.333 kg at 1001 = 1000 (999.999 rounded)."""
    return int((unit_price_minor * quantity).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def needs_conversion(line: WantedLine, rules: OrderingRules | None) -> bool:
    """A line in another unit than the SKU's base unit (catalog knows the factors)."""
    return line.unit is not None and rules is not None and line.unit != rules.unit
