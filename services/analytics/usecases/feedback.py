"""A buyer scores a touchpoint of its company (after an order, or of the relation as a whole):
the answer is kept once, and the company's satisfaction figures are recomputed with it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.settings import Settings
from services.analytics.store import queries
from services.analytics.store.models import Feedback
from services.analytics.usecases.recompute import recompute_clients
from shared.auth import Principal
from shared.problems import Conflict, FieldError, Unprocessable


async def give_feedback(
    session: AsyncSession, settings: Settings, principal: Principal, answer: dict[str, Any]
) -> Feedback:
    """`answer`: order_id (or None), touchpoint, nps, csat, comment. Refused (nothing kept) for
    a caller acting for no company, an order of another company, or a second answer."""
    company_id = principal.company_id
    if company_id is None:
        raise Unprocessable("Choose the company you act for first (switch company).")
    order_id = answer.get("order_id")
    if order_id is not None and await queries.order_client(session, order_id) != company_id:
        raise Unprocessable(
            "No such order of your company.",
            errors=[FieldError(field="order_id", message="is not an order of your company")],
        )
    row = await queries.add_feedback(
        session, {"client_id": company_id, **answer, "submitted_by": str(principal.subject)}
    )
    if row is None:
        raise Conflict("You have already scored this touchpoint of this order.")
    await recompute_clients(session, settings, [company_id])
    return row
