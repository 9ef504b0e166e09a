"""Accounts: the client's credit standing."""

from __future__ import annotations

import uuid

from services.orders.clients import unexpected
from services.orders.domain.credit import CreditStanding
from shared.upstream import Upstreams


async def credit_standing(upstreams: Upstreams, company_id: uuid.UUID) -> CreditStanding:
    response = await upstreams.call("accounts", "GET", f"/companies/{company_id}/credit")
    if response.status_code != 200:
        raise unexpected("accounts", response)
    data = response.json()
    return CreditStanding(
        currency=data["currency"],
        overdue_minor=data["overdue_minor"],
        available_credit_minor=data["available_credit_minor"],
    )
