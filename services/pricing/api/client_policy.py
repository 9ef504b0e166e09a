"""Commercial policy per client and group: which price lists a client or a client group gets,
and a client's discounts by brand or category. Admins write, staff read (api/policy.py)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path

from services.pricing.api.policy_common import (
    READ_ERRORS,
    READ_ONE_ERRORS,
    READERS,
    WRITE_ERRORS,
    WRITE_ONE_ERRORS,
    WRITERS,
    CompanyId,
    unique,
)
from services.pricing.api.policy_schemas import (
    ClientDiscount,
    ClientDiscounts,
    ClientDiscountsRead,
    ClientListsRead,
    GroupCode,
    GroupListsRead,
    ListAssignment,
)
from services.pricing.store import policy as store
from services.pricing.usecases import client_terms
from services.pricing.usecases.access import client_to_change, client_to_read
from shared.auth import allow
from shared.db import SessionDep
from shared.upstream import UpstreamsDep

router = APIRouter(tags=["commercial policy"])
GroupCodePath = Annotated[GroupCode, Path(description="Client group code (accounts)")]


# Assignments ---------------------------------------------------------------------------------


@router.put(
    "/clients/{company_id}/price-lists",
    response_model=ClientListsRead,
    summary="Replace the lists assigned to a client",
    description=(
        "The whole set: lists left out are unassigned, `[]` removes all. A client's lists "
        "come before its group's and the base lists, higher priority first. Matrix lists are "
        "assigned by matrix feeds, not here."
    ),
    responses=WRITE_ONE_ERRORS,
)
async def put_client_lists(
    company_id: CompanyId,
    body: ListAssignment,
    upstreams: UpstreamsDep,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> ClientListsRead:
    client = await client_to_change(upstreams, session, principal, company_id)
    codes = await client_terms.assign_client_lists(session, client, unique(body.list_codes))
    return ClientListsRead(company_id=company_id, list_codes=codes)


@router.get(
    "/clients/{company_id}/price-lists",
    response_model=ClientListsRead,
    summary="The lists assigned to a client",
    responses=READ_ONE_ERRORS,
)
async def get_client_lists(
    company_id: CompanyId, session: SessionDep, principal: allow(*READERS)
) -> ClientListsRead:
    client = await client_to_read(session, principal, company_id)
    return ClientListsRead(
        company_id=company_id, list_codes=await store.client_list_codes(session, client.id)
    )


@router.put(
    "/client-groups/{group_code}/price-lists",
    response_model=GroupListsRead,
    summary="Replace the lists assigned to a client group",
    description=(
        "The whole set for every client whose group (from accounts) is `group_code`; `[]` "
        "removes all. The event names the lists that gained or lost the group."
    ),
    responses=WRITE_ERRORS,
)
async def put_group_lists(
    group_code: GroupCodePath,
    body: ListAssignment,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> GroupListsRead:
    codes = await client_terms.assign_group_lists(session, group_code, unique(body.list_codes))
    return GroupListsRead(group_code=group_code, list_codes=codes)


@router.get(
    "/client-groups/{group_code}/price-lists",
    response_model=GroupListsRead,
    summary="The lists assigned to a client group",
    responses=READ_ERRORS,
)
async def get_group_lists(
    group_code: GroupCodePath,
    session: SessionDep,
    principal: allow(*READERS),
) -> GroupListsRead:
    return GroupListsRead(
        group_code=group_code, list_codes=await store.group_list_codes(session, group_code)
    )


# Client discounts ----------------------------------------------------------------------------


def _discounts_read(company_id: uuid.UUID, rows: list[Any]) -> ClientDiscountsRead:
    return ClientDiscountsRead(
        company_id=company_id,
        discounts=[ClientDiscount(scope=r.scope, value=r.value, percent=r.percent) for r in rows],
    )


@router.put(
    "/clients/{company_id}/discounts",
    response_model=ClientDiscountsRead,
    summary="Replace a client's discounts by brand or category",
    description=(
        "The whole set; `[]` removes all. On list prices (never on contract prices) the "
        "better of the client's brand and category discount applies."
    ),
    responses=WRITE_ONE_ERRORS,
)
async def put_client_discounts(
    company_id: CompanyId,
    body: ClientDiscounts,
    upstreams: UpstreamsDep,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> ClientDiscountsRead:
    rows = await client_terms.replace_discounts(
        session,
        lambda: client_to_change(upstreams, session, principal, company_id),
        [d.model_dump() for d in body.discounts],
    )
    return _discounts_read(company_id, rows)


@router.get(
    "/clients/{company_id}/discounts",
    response_model=ClientDiscountsRead,
    summary="A client's discounts by brand or category",
    responses=READ_ONE_ERRORS,
)
async def get_client_discounts(
    company_id: CompanyId, session: SessionDep, principal: allow(*READERS)
) -> ClientDiscountsRead:
    client = await client_to_read(session, principal, company_id)
    return _discounts_read(company_id, await store.client_discounts(session, client.id))
