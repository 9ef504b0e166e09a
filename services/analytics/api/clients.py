"""One client: its profile, assortment gaps with cross-sell offers, and a suggested reorder
list. Each answers for the clients the caller reaches (`shared.scope`): a buyer its own
company, a sales manager its assigned clients, heads of sales, pricing managers and admins the
whole base; another answers 404 as an unknown client does."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from services.analytics.api.deps import SettingsDep
from services.analytics.api.responses import UNKNOWN_CLIENT
from services.analytics.api.schemas import (
    BuyerProfile,
    ChurnRisk,
    ClientProfile,
    CrossSell,
    ReorderList,
    Segments,
)
from services.analytics.store import queries
from services.analytics.store.queries import CLIENTS
from services.analytics.usecases import assortment
from shared.audience import for_caller
from shared.auth import CLIENT_READERS, allow
from shared.db import SessionDep
from shared.problems import NotFound

router = APIRouter(tags=["clients"])
READERS = CLIENT_READERS


@router.get(
    "/clients/{client_id}/profile",
    summary="The client's value, segments, churn risk and satisfaction",
    description=(
        "Staff get everything (`ClientProfile`: margins, lifetime value, churn, every "
        "segment); the client's own people get `BuyerProfile`: their purchases and service, "
        "never the seller's cost, margin or internal labels."
    ),
    response_model=ClientProfile | BuyerProfile,
    responses=UNKNOWN_CLIENT,
)
async def profile(
    client_id: uuid.UUID, session: SessionDep, principal: allow(*READERS)
) -> Response:
    await CLIENTS.ensure(session, principal, client_id)
    seg = await queries.segment(session, client_id)
    who = await queries.client(session, client_id)
    if seg is None and who is None:
        raise NotFound("No such client.")
    m = dict(seg.metrics) if seg else {}
    segments = Segments()
    churn = None
    if seg:
        segments = Segments(
            abc_revenue=seg.abc_revenue,
            abc_margin=seg.abc_margin,
            xyz=seg.xyz,
            matrix_cell=m.get("matrix_cell"),
            matrix_action=m.get("matrix_action"),
            rfm_segment=seg.rfm_segment,
            rfm_scores=[m.get("r_score"), m.get("f_score"), m.get("m_score")],
            regularity=seg.regularity,
            check_tier=seg.check_tier,
            ladder=seg.ladder,
            payment_behaviour=seg.payment_behaviour,
            concentration=seg.concentration,
        )
        churn = ChurnRisk(
            score=seg.churn_score,
            raised=seg.churn_raised,
            reason=m.get("churn_reason"),
            days_since_last_order=m.get("days_since_last_order"),
            usual_gap_days=m.get("usual_gap_days"),
        )
    staff_view = ClientProfile(
        client_id=client_id,
        currency=seg.currency if seg else who.currency,  # type: ignore[union-attr]
        legal_name=who.legal_name if who else None,
        industry=who.industry if who else None,
        client_type=who.client_type if who else None,
        size=who.size if who else None,
        sales_manager_id=who.sales_manager_id if who else None,
        segments=segments,
        churn=churn,
        metrics=m,
        computed_at=seg.computed_at if seg else None,
    )
    return for_caller(principal, staff_view, BuyerProfile)


@router.get(
    "/clients/{client_id}/cross-sell",
    summary="Categories the client's peers buy and it does not, with SKUs to offer",
    responses=UNKNOWN_CLIENT,
)
async def cross_sell(
    client_id: uuid.UUID, settings: SettingsDep, session: SessionDep, principal: allow(*READERS)
) -> CrossSell:
    found = await assortment.cross_sell(session, settings, principal, client_id)
    return CrossSell.model_validate(found)


@router.get(
    "/clients/{client_id}/reorder",
    summary="What the client will likely need in the next period, from its own history",
    responses={404: {"description": "A client the caller does not reach"}},
)
async def reorder(
    client_id: uuid.UUID, settings: SettingsDep, session: SessionDep, principal: allow(*READERS)
) -> ReorderList:
    found = await assortment.reorder(session, settings, principal, client_id)
    return ReorderList.model_validate(found)
