"""Credit standing: how much more the client may owe."""

from __future__ import annotations


def available_credit(
    credit_limit_minor: int | None,
    purchase_limit_minor: int | None,
    balance_minor: int,
) -> int | None:
    """Headroom under the tighter of our credit limit and ERP's purchase limit; None = unlimited.

    The balance is what the client owes now; a negative balance (prepayment) adds headroom.
    """
    limits = [x for x in (credit_limit_minor, purchase_limit_minor) if x is not None]
    if not limits:
        return None
    return max(min(limits) - balance_minor, 0)
