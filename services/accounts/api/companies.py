"""Companies (clients), their card, client types and groups, addresses and knowledge goals:
the routes; the flows are in `usecases/companies.py`, `addresses.py` and `knowledge_goals.py`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from services.accounts.api.access import IF_MATCH_RESPONSES, IfMatch, set_etag
from services.accounts.api.schemas import (
    AddressCreate,
    AddressRead,
    CardRead,
    CardUpdate,
    ClientGroupCreate,
    ClientGroupRead,
    ClientTypeRead,
    ClientTypeWrite,
    Code,
    CompanyCreate,
    CompanyRead,
    CompanyStatus,
    CompanyUpdate,
    GoalRead,
    GoalWrite,
)
from services.accounts.usecases import addresses, knowledge_goals
from services.accounts.usecases import companies as usecase
from services.accounts.usecases.access import PEOPLE, STAFF
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.fields import line
from shared.links import public_path
from shared.pagination import Page, PageDep, PageParams, page_params

router = APIRouter(tags=["companies"])
pages = APIRouter(tags=["companies"])


def _read(view: usecase.CompanyView, response: Response | None = None) -> CompanyRead:
    if response is not None:
        set_etag(response, view.company.version)
    read = CompanyRead.model_validate(view.company)
    read.client_group = view.group_code
    return read


def _card_read(card: usecase.Card, response: Response) -> CardRead:
    set_etag(response, card.version)
    return CardRead.model_validate(card, from_attributes=True)


@router.get(
    "/companies",
    summary="Companies: staff the clients they reach, a client's user its own",
    description="A sales manager gets the companies assigned to it; the head of sales, pricing "
    "managers and admins every company; a client's user the companies it belongs to.",
)
async def list_companies(
    session: SessionDep,
    principal: allow(*PEOPLE),
    params: Annotated[PageParams, Depends(page_params)],
    q: Annotated[line(200) | None, Query(description="Name contains, or exact tax/ERP id")] = None,
    client_group: Code | None = None,
    sales_manager_id: uuid.UUID | None = None,
    status: CompanyStatus | None = None,
) -> Page[CompanyRead]:
    views, cursor = await usecase.list_companies(
        session,
        principal,
        params,
        q=q,
        client_group=client_group,
        sales_manager_id=sales_manager_id,
        status=status,
    )
    return Page(items=[_read(v) for v in views], next_cursor=cursor)


@router.post(
    "/companies",
    status_code=201,
    summary="Create a company (client)",
    description="A sales manager's new company is assigned to it unless it names a manager.",
    responses={409: {"description": "A company with this external_id exists"}},
)
async def create_company(
    body: CompanyCreate,
    request: Request,
    session: SessionDep,
    response: Response,
    principal: allow(*STAFF),
) -> CompanyRead:
    view = await usecase.create_company(
        session,
        principal,
        body.model_dump(),
        names_manager="sales_manager_id" in body.model_fields_set,
    )
    response.headers["Location"] = public_path(
        request, "get_company", company_id=str(view.company.id)
    )
    return _read(view, response)


@router.get("/companies/{company_id}", summary="One company; its ETag guards updates")
async def get_company(
    company_id: uuid.UUID, session: SessionDep, response: Response, principal: allow(*PEOPLE)
) -> CompanyRead:
    return _read(await usecase.get_company(session, principal, company_id), response)


@router.patch(
    "/companies/{company_id}",
    summary="Change a company's master data (If-Match required)",
    responses={**IF_MATCH_RESPONSES, 409: {"description": "Another company has this external_id"}},
)
async def update_company(
    company_id: uuid.UUID,
    body: CompanyUpdate,
    session: SessionDep,
    response: Response,
    principal: allow(*STAFF),
    if_match: IfMatch = None,
) -> CompanyRead:
    changes = body.model_dump(exclude_unset=True)
    view = await usecase.update_company(session, principal, company_id, if_match, changes)
    return _read(view, response)


# The client card: what the seller knows of the client. Staff only: clients never see it.


@router.get("/companies/{company_id}/card", summary="The client card (staff only)")
async def get_card(
    company_id: uuid.UUID, session: SessionDep, response: Response, principal: allow(*STAFF)
) -> CardRead:
    return _card_read(await usecase.get_card(session, principal, company_id), response)


@router.put(
    "/companies/{company_id}/card",
    summary="Replace the client card's values (If-Match required)",
    responses=IF_MATCH_RESPONSES,
)
async def put_card(
    company_id: uuid.UUID,
    body: CardUpdate,
    session: SessionDep,
    response: Response,
    principal: allow(*STAFF),
    if_match: IfMatch = None,
) -> CardRead:
    card = await usecase.replace_card(session, principal, company_id, if_match, body.values)
    return _card_read(card, response)


@pages.get("/client-types", summary="Client types and their card fields, by code")
async def list_client_types(
    session: SessionDep, principal: allow(*STAFF), page: PageDep
) -> Page[ClientTypeRead]:
    return Page.of(await usecase.client_types(session, page), ClientTypeRead.model_validate)


@router.put("/client-types/{code}", summary="Create or change a client type and its card fields")
async def put_client_type(
    code: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")],
    body: ClientTypeWrite,
    session: SessionDep,
    principal: allow(Role.ADMIN),
) -> ClientTypeRead:
    kind = await usecase.put_client_type(session, code, body.name, body.card_fields)
    return ClientTypeRead.model_validate(kind)


@pages.get("/client-groups", summary="Client groups, by code")
async def list_client_groups(
    session: SessionDep, principal: allow(*STAFF), page: PageDep
) -> Page[ClientGroupRead]:
    return Page.of(await usecase.client_groups(session, page), ClientGroupRead.model_validate)


@router.post(
    "/client-groups",
    status_code=201,
    summary="Create a client group",
    responses={409: {"description": "A group with this code exists"}},
)
async def create_client_group(
    body: ClientGroupCreate, session: SessionDep, principal: allow(Role.ADMIN)
) -> ClientGroupRead:
    group = await usecase.create_client_group(session, body.code, body.name)
    return ClientGroupRead.model_validate(group)


# Addresses: the company's own people keep them; staff may too.


@pages.get("/companies/{company_id}/addresses", summary="The company's addresses, by kind")
async def list_addresses(
    company_id: uuid.UUID, session: SessionDep, principal: allow(*PEOPLE), page: PageDep
) -> Page[AddressRead]:
    found = await addresses.addresses(session, principal, company_id, page)
    return Page.of(found, AddressRead.model_validate)


@router.post("/companies/{company_id}/addresses", status_code=201, summary="Add an address")
async def add_address(
    company_id: uuid.UUID,
    body: AddressCreate,
    session: SessionDep,
    principal: allow(Role.COMPANY_ADMIN, *STAFF),
) -> AddressRead:
    address = await addresses.add_address(session, principal, company_id, body.model_dump())
    return AddressRead.model_validate(address)


@router.delete(
    "/companies/{company_id}/addresses/{address_id}", status_code=204, summary="Remove an address"
)
async def delete_address(
    company_id: uuid.UUID,
    address_id: uuid.UUID,
    session: SessionDep,
    principal: allow(Role.COMPANY_ADMIN, *STAFF),
) -> Response:
    await addresses.remove_address(session, principal, company_id, address_id)
    return Response(status_code=204)


# Knowledge goals: what the seller means to learn about the client this year. Staff only.


@pages.get(
    "/companies/{company_id}/knowledge-goals", summary="The client's knowledge goals, by year"
)
async def list_goals(
    company_id: uuid.UUID,
    session: SessionDep,
    principal: allow(*STAFF),
    page: PageDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Page[GoalRead]:
    found = await knowledge_goals.goals(session, principal, company_id, year, page)
    return Page.of(found, GoalRead.model_validate)


@router.put(
    "/companies/{company_id}/knowledge-goals/{year}/{code}",
    summary="Set a knowledge goal of a year and its status",
)
async def put_goal(
    company_id: uuid.UUID,
    year: Annotated[int, Path(ge=2000, le=2100)],
    code: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")],
    body: GoalWrite,
    session: SessionDep,
    principal: allow(*STAFF),
) -> GoalRead:
    goal = await knowledge_goals.set_goal(
        session, principal, company_id, year, code, body.model_dump()
    )
    return GoalRead.model_validate(goal)
