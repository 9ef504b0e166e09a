"""The checkout's decision: the lines still orderable, every line priced, the minimum order,
the company's approval rules, then credit. Plain functions of what the saga gathered."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from services.orders.clients.accounts import credit_standing
from services.orders.clients.pricing import PricedCart
from services.orders.domain.approval import Rule, approval_reason
from services.orders.domain.credit import CreditStanding, decide_credit
from services.orders.domain.lines import OrderingRules, WantedLine, check_lines, line_total
from services.orders.settings import Settings
from services.orders.usecases.carts import refuse_problems
from services.orders.usecases.context import Collaborators
from shared.auth import Principal
from shared.fields import refuse_oversized
from shared.problems import FieldError, ProblemError, Unprocessable


class CreditRefused(ProblemError):
    status, slug = 422, "credit-refused"


def refuse_unorderable(
    quantities: list[tuple[str, Decimal]], rules: dict[str, OrderingRules]
) -> None:
    """The lines are checked again at checkout: the catalog may have changed since."""
    _, problems = check_lines(
        [WantedLine(i, s, str(q)) for i, (s, q) in enumerate(quantities, 1)], rules
    )
    refuse_problems(problems, "Some cart lines cannot be ordered.")


@dataclass(frozen=True)
class Decision:
    """What the order will be: its status, why it waits (if it does), each line's total."""

    status: str
    hold: str | None
    totals: list[int]


def decide(
    settings: Settings,
    principal: Principal,
    priced: PricedCart,
    standing: CreditStanding,
    approvals: list[Rule],
) -> Decision:
    """Every line priced, the minimum order, the company's approval rules (not for staff
    ordering on behalf), then credit: placed, waiting, or refused with the reason."""
    unpriced = [i for i, p in enumerate(priced.lines, 1) if p.unit_price_minor is None]
    if unpriced:
        raise Unprocessable(
            "Some lines have no price for this client; ask your manager.",
            errors=[
                FieldError(field="lines.sku", message=f"{priced.lines[i - 1].sku}: no price", row=i)
                for i in unpriced
            ],
        )
    totals = [line_total(p.unit_price_minor or 0, p.quantity) for p in priced.lines]
    total = sum(totals)
    refuse_oversized(total, "lines.quantity")
    if total < settings.min_order_total_minor:
        raise Unprocessable(
            f"The minimum order is {settings.min_order_total_minor} {priced.currency} (minor "
            f"units); this cart comes to {total}.",
            slug="below-minimum-order",
        )
    reason = (
        approval_reason(approvals, total, priced.currency, str(principal.subject))
        if not principal.is_staff
        else None
    )
    if reason:
        return Decision("pending_approval", reason, totals)
    status, hold = credit_decision(settings, standing, total, priced.currency)
    return Decision(status, hold, totals)


def credit_decision(
    settings: Settings, standing: CreditStanding, total: int, currency: str
) -> tuple[str, str | None]:
    """("placed", None), ("credit_hold", why), or CreditRefused telling the buyer why."""
    decision = decide_credit(
        standing,
        total,
        currency,
        overdue_threshold_minor=settings.overdue_threshold_minor,
        on_breach=settings.credit_on_breach,
    )
    if decision.verdict == "refuse":
        raise CreditRefused(f"The order cannot be placed on credit: {decision.reason}.")
    if decision.verdict == "hold":
        return "credit_hold", f"waiting for a sales manager: {decision.reason}"
    return "placed", None


async def credit_verdict(
    collaborators: Collaborators, company_id: uuid.UUID, total: int, currency: str
) -> tuple[str, str | None]:
    """`credit_decision` on the client's standing as accounts tells it now."""
    standing = await credit_standing(collaborators.upstreams, company_id)
    return credit_decision(collaborators.settings, standing, total, currency)
