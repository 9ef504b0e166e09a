"""Bulk commercial policy: up to 10,000 price lists, group or client list assignments, or client
discounts in one request, for an ERP setting up policy at scale.

Each item is checked by the single endpoints' rules (`usecases/bulk_policy.py`); `mode` says what a bad item
does, as on the feeds: `all_or_nothing` answers 422 naming every bad row (the first item is
row 1) and changes nothing, `skip_bad_rows` applies the good ones in one transaction. Every
row's outcome is answered: created, updated, unchanged (a batch sent again changes nothing) or
rejected. A request that changed something records one `price.changed` naming every list or
client it touched, as one single edit does; one that changed nothing records none.

A list edit that would move prices (a new parent or markup on an existing list) is governed
(guardrails, approval, versions) and so is refused here: send it with PATCH /price-lists/{code}.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query

from services.pricing.api.bulk_schemas import (
    BulkResult,
    ClientAssignmentsBulk,
    ClientDiscountsBulk,
    GroupAssignmentsBulk,
    PriceListsBulk,
    RowError,
    RowResult,
)
from services.pricing.api.policy_common import CONFLICT, WRITE_ERRORS, problem
from services.pricing.domain.bulk_policy import Outcome
from services.pricing.usecases import bulk_policy as usecase
from shared.auth import Role, allow
from shared.batches import Batch
from shared.db import SessionDep
from shared.feeds.models import FeedMode
from shared.upstream import UpstreamsDep

router = APIRouter(prefix="/bulk", tags=["commercial policy"])

# The single endpoints' writers, and ERP's integration key (the gateway lets it reach /bulk/).
WRITERS = (Role.ADMIN, Role.INTEGRATOR)
Mode = Annotated[
    FeedMode,
    Query(
        description="all_or_nothing: one bad row rejects the batch; skip_bad_rows: apply the rest"
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(max_length=200, description="The same key and body again replays the first answer"),
]
RESPONSES: dict[int | str, dict[str, Any]] = {
    **WRITE_ERRORS,
    403: problem("Only admins and integrators' keys may change commercial policy in bulk"),
    422: problem(
        "The body is invalid (at most 10,000 items), or all_or_nothing and some rows are bad: "
        "`errors` names each bad row and field, and nothing changed"
    ),
}


async def bulk_mode(
    principal: allow(*WRITERS),
    mode: Mode = FeedMode.ALL_OR_NOTHING,
    idempotency_key: IdempotencyKey = None,
) -> FeedMode:
    """What every bulk write takes beside its body: a writer, the mode, and the key (the
    idempotency middleware reads it; here it is documented)."""
    return mode


BulkMode = Annotated[FeedMode, Depends(bulk_mode)]


def _answer(mode: FeedMode, rows: Batch) -> BulkResult:
    """Every row's outcome, in the order sent, and how many of each."""
    return BulkResult(
        mode=mode,
        created=rows.count(Outcome.CREATED),
        updated=rows.count(Outcome.UPDATED),
        unchanged=rows.count(Outcome.UNCHANGED),
        rejected=rows.count(Outcome.REJECTED),
        rows=[
            RowResult(
                row=o.row,
                key=o.key,
                outcome=Outcome(o.status),
                errors=[RowError(field=p.field, message=p.message) for p in o.problems],
            )
            for o in rows.outcomes
        ],
    )


@router.post(
    "/price-lists",
    response_model=BulkResult,
    summary="Create or update many price lists",
    description=(
        "Each item is a whole list by `code`, as `POST /price-lists` takes it: a new code is "
        "created, a known one updated (name, currency, priority, base, validity), the same "
        "again is unchanged. A parent may be a list of an earlier row. A new parent or markup "
        "on an existing list moves prices and is governed: send it with "
        "`PATCH /price-lists/{code}`."
    ),
    responses={**RESPONSES, **CONFLICT},
)
async def bulk_price_lists(body: PriceListsBulk, session: SessionDep, mode: BulkMode) -> BulkResult:
    rows = await usecase.price_lists(session, body.items, mode)
    return _answer(mode, rows)


# Assignments ---------------------------------------------------------------------------------


@router.post(
    "/client-groups/price-lists",
    response_model=BulkResult,
    summary="Replace the lists assigned to many client groups",
    description=(
        "Each item is a group's whole set, as `PUT /client-groups/{group_code}/price-lists` "
        "takes it (`[]` removes all): `created` when the group had none, `unchanged` when it "
        "is the set the group has."
    ),
    responses=RESPONSES,
)
async def bulk_group_lists(
    body: GroupAssignmentsBulk, session: SessionDep, mode: BulkMode
) -> BulkResult:
    rows = await usecase.group_lists(session, body.items, mode)
    return _answer(mode, rows)


@router.post(
    "/clients/price-lists",
    response_model=BulkResult,
    summary="Replace the lists assigned to many clients",
    description=(
        "Each item is a client's whole set, as `PUT /clients/{company_id}/price-lists` takes "
        "it (`[]` removes all): `created` when the client had none, `unchanged` when it is "
        "the set the client has."
    ),
    responses=RESPONSES,
)
async def bulk_client_lists(
    body: ClientAssignmentsBulk, upstreams: UpstreamsDep, session: SessionDep, mode: BulkMode
) -> BulkResult:
    rows = await usecase.client_lists(session, upstreams, body.items, mode)
    return _answer(mode, rows)


# Client discounts ----------------------------------------------------------------------------


@router.post(
    "/clients/discounts",
    response_model=BulkResult,
    summary="Replace many clients' discounts by brand or category",
    description=(
        "Each item is a client's whole set, as `PUT /clients/{company_id}/discounts` takes it "
        "(`[]` removes all): `created` when the client had none, `unchanged` when it is the "
        "set the client has."
    ),
    responses=RESPONSES,
)
async def bulk_client_discounts(
    body: ClientDiscountsBulk, upstreams: UpstreamsDep, session: SessionDep, mode: BulkMode
) -> BulkResult:
    rows = await usecase.client_discounts(session, upstreams, body.items, mode)
    return _answer(mode, rows)
