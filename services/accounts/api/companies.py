"""Companies (clients), their card, client types and groups, addresses and knowledge goals."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.accounts.api.access import (
    CLIENTS,
    PEOPLE,
    STAFF,
    administered_company,
    check_if_match,
    set_etag,
    user_id,
    visible_company,
)
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
from services.accounts.domain.card import CardField, validate_card
from services.accounts.store import companies as store
from services.accounts.store.models import (
    Address,
    ClientGroup,
    ClientType,
    Company,
    KnowledgeGoal,
)
from shared.auth import Principal, Role, allow
from shared.clock import utcnow
from shared.db import SessionDep
from shared.fields import line
from shared.links import public_path
from shared.pagination import Page, PageParams, page_params, paginate
from shared.problems import Conflict, NotFound, Unprocessable
from shared.scope import assigned_manager

router = APIRouter(tags=["companies"])
IfMatch = Annotated[str | None, Header(description="The ETag you read")]
CREDIT_FIELDS = ("credit_limit_minor", "currency")
IF_MATCH_RESPONSES: dict[int | str, dict[str, str]] = {
    412: {"description": "The company changed since you read it"},
    428: {"description": "If-Match missing"},
}


def _read(company: Company, group_code: str | None) -> CompanyRead:
    read = CompanyRead.model_validate(company)
    read.client_group = group_code
    return read


async def _company_for_write(
    session: SessionDep, principal: Principal, company_id: uuid.UUID, if_match: str | None
) -> Company:
    """Locked until commit, if the caller reaches it and read the current version."""
    company = await visible_company(session, principal, company_id, lock=True)
    check_if_match(if_match, company.version)
    return company


def _changed(company: Company) -> None:
    """Every write of a company gives it a new version, and so a new ETag."""
    company.version += 1
    company.updated_at = utcnow()


def _status_set(company: Company, before: str | None) -> None:
    """Blocking a company takes it from its people's tokens within seconds (the gateway asks
    `/internal/revocations`); unblocking gives it back to new logins."""
    if company.status != before:
        company.blocked_at = utcnow() if company.status == "blocked" else None


async def _group_code(session: SessionDep, company: Company) -> str | None:
    codes = await store.group_codes(session, {company.client_group_id})
    return codes.get(company.client_group_id) if company.client_group_id else None


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
    group = await store.group_by_code(session, client_group) if client_group else None
    stmt = store.companies_query(
        member_user_id=None if principal.is_staff else user_id(principal),
        q=q,
        client_group_id=group.id if group else None,
        sales_manager_id=sales_manager_id,
        status=status,
    )
    if principal.is_staff:  # a client's user is bounded by its memberships above
        stmt = CLIENTS.narrow(stmt, Company.id, principal)
    rows, cursor = await paginate(session, stmt, [Company.legal_name, Company.id], params)
    codes = await store.group_codes(session, {c.client_group_id for c in rows})
    return Page(
        items=[_read(c, codes.get(c.client_group_id) if c.client_group_id else None) for c in rows],
        next_cursor=cursor,
    )


@router.post(
    "/companies",
    status_code=201,
    summary="Create a company (client)",
    description="A sales manager's new company is assigned to it unless it names a manager.",
)
async def create_company(
    body: CompanyCreate,
    request: Request,
    session: SessionDep,
    response: Response,
    principal: allow(*STAFF),
) -> CompanyRead:
    if "sales_manager_id" not in body.model_fields_set:
        # Otherwise the company would be out of its creator's reach the moment it exists.
        body.sales_manager_id = assigned_manager(principal)
    group = await store.group_by_code(session, body.client_group)
    await store.client_type(session, body.client_type)
    await store.check_sales_manager(session, body.sales_manager_id)
    company = Company(
        **body.model_dump(exclude={"client_group"}),
        client_group_id=group.id if group else None,
    )
    _status_set(company, None)
    session.add(company)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("A company with this external_id exists.") from exc
    store.record_company_upserted(session, company, group.code if group else None)
    if company.credit_limit_minor is not None:
        store.record_credit_changed(session, company, None)
    set_etag(response, company.version)
    response.headers["Location"] = public_path(request, "get_company", company_id=str(company.id))
    return _read(company, group.code if group else None)


@router.get("/companies/{company_id}", summary="One company; its ETag guards updates")
async def get_company(
    company_id: uuid.UUID, session: SessionDep, response: Response, principal: allow(*PEOPLE)
) -> CompanyRead:
    company = await visible_company(session, principal, company_id)
    set_etag(response, company.version)
    return _read(company, await _group_code(session, company))


@router.patch(
    "/companies/{company_id}",
    summary="Change a company's master data (If-Match required)",
    responses=IF_MATCH_RESPONSES,
)
async def update_company(
    company_id: uuid.UUID,
    body: CompanyUpdate,
    session: SessionDep,
    response: Response,
    principal: allow(*STAFF),
    if_match: IfMatch = None,
) -> CompanyRead:
    company = await _company_for_write(session, principal, company_id, if_match)
    changes = body.model_dump(exclude_unset=True)
    if "client_group" in changes:
        group = await store.group_by_code(session, changes.pop("client_group"))
        changes["client_group_id"] = group.id if group else None
    if "partners" in changes:
        changes["partners"] = sorted(set(changes["partners"] or []))
    if "client_type" in changes:
        await store.client_type(session, changes["client_type"])
    if "sales_manager_id" in changes:
        await store.check_sales_manager(session, changes["sales_manager_id"])
    credit_before = tuple(getattr(company, f) for f in CREDIT_FIELDS)
    status_before = company.status
    for name, value in changes.items():
        setattr(company, name, value)
    _status_set(company, status_before)
    _changed(company)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("Another company has this external_id.") from exc
    group_code = await _group_code(session, company)
    store.record_company_upserted(session, company, group_code)
    if tuple(getattr(company, f) for f in CREDIT_FIELDS) != credit_before:
        store.record_credit_changed(session, company, await store.receivable(session, company.id))
    set_etag(response, company.version)
    return _read(company, group_code)


# The client card: what the seller knows of the client. Staff only: clients never see it.


async def _card_fields(session: SessionDep, company: Company) -> list[CardField]:
    kind = await store.client_type(session, company.client_type)
    return [CardField.model_validate(f) for f in kind.card_fields] if kind else []


@router.get("/companies/{company_id}/card", summary="The client card (staff only)")
async def get_card(
    company_id: uuid.UUID, session: SessionDep, response: Response, principal: allow(*STAFF)
) -> CardRead:
    company = await visible_company(session, principal, company_id)
    set_etag(response, company.version)
    return CardRead(
        company_id=company.id,
        client_type=company.client_type,
        fields=await _card_fields(session, company),
        values=company.card,
        version=company.version,
    )


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
    company = await _company_for_write(session, principal, company_id, if_match)
    fields = await _card_fields(session, company)
    values, errors = validate_card(fields, body.values)
    if errors:
        raise Unprocessable("The card has invalid fields.", errors=errors)
    company.card = values
    _changed(company)
    await session.flush()
    # Analytics reads size and purchase potential from the card (share of wallet, peers).
    store.record_company_upserted(session, company, await _group_code(session, company))
    set_etag(response, company.version)
    return CardRead(
        company_id=company.id,
        client_type=company.client_type,
        fields=fields,
        values=values,
        version=company.version,
    )


@router.get("/client-types", summary="Client types and their card fields")
async def list_client_types(session: SessionDep, principal: allow(*STAFF)) -> list[ClientTypeRead]:
    rows = await session.scalars(select(ClientType).order_by(ClientType.code))
    return [ClientTypeRead.model_validate(r) for r in rows]


@router.put("/client-types/{code}", summary="Create or change a client type and its card fields")
async def put_client_type(
    code: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")],
    body: ClientTypeWrite,
    session: SessionDep,
    principal: allow(Role.ADMIN),
) -> ClientTypeRead:
    keys = [f.key for f in body.card_fields]
    if len(keys) != len(set(keys)):
        raise Unprocessable("Card field keys must be unique.")
    kind = await session.get(ClientType, code)
    fields = [f.model_dump(mode="json") for f in body.card_fields]
    if kind is None:
        kind = ClientType(code=code, name=body.name, card_fields=fields)
        session.add(kind)
    else:
        kind.name, kind.card_fields, kind.updated_at = body.name, fields, utcnow()
    await session.flush()
    return ClientTypeRead.model_validate(kind)


@router.get("/client-groups", summary="Client groups")
async def list_client_groups(
    session: SessionDep, principal: allow(*STAFF)
) -> list[ClientGroupRead]:
    rows = await session.scalars(select(ClientGroup).order_by(ClientGroup.code))
    return [ClientGroupRead.model_validate(r) for r in rows]


@router.post("/client-groups", status_code=201, summary="Create a client group")
async def create_client_group(
    body: ClientGroupCreate, session: SessionDep, principal: allow(Role.ADMIN)
) -> ClientGroupRead:
    group = ClientGroup(code=body.code, name=body.name)
    session.add(group)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"The group {body.code!r} exists.") from exc
    return ClientGroupRead.model_validate(group)


# Addresses: the company's own people keep them; staff may too.


@router.get("/companies/{company_id}/addresses", summary="The company's addresses")
async def list_addresses(
    company_id: uuid.UUID, session: SessionDep, principal: allow(*PEOPLE)
) -> list[AddressRead]:
    await visible_company(session, principal, company_id)
    return [AddressRead.model_validate(a) for a in await store.addresses(session, company_id)]


@router.post("/companies/{company_id}/addresses", status_code=201, summary="Add an address")
async def add_address(
    company_id: uuid.UUID,
    body: AddressCreate,
    session: SessionDep,
    principal: allow(Role.COMPANY_ADMIN, *STAFF),
) -> AddressRead:
    await administered_company(session, principal, company_id)
    address = Address(company_id=company_id, **body.model_dump())
    session.add(address)
    await session.flush()
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
    await administered_company(session, principal, company_id)
    address = await session.get(Address, address_id)
    if address is None or address.company_id != company_id:
        raise NotFound("No such address.")
    await session.delete(address)
    return Response(status_code=204)


# Knowledge goals: what the seller means to learn about the client this year. Staff only.


@router.get("/companies/{company_id}/knowledge-goals", summary="The client's knowledge goals")
async def list_goals(
    company_id: uuid.UUID,
    session: SessionDep,
    principal: allow(*STAFF),
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> list[GoalRead]:
    await visible_company(session, principal, company_id)
    return [GoalRead.model_validate(g) for g in await store.goals(session, company_id, year)]


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
    await visible_company(session, principal, company_id)
    goal = await store.goal(session, company_id, year, code)
    if goal is None:
        goal = KnowledgeGoal(company_id=company_id, year=year, code=code)
        session.add(goal)
    for name, value in body.model_dump().items():
        setattr(goal, name, value)
    goal.updated_at = utcnow()
    goal.updated_by = principal.user_id
    await session.flush()
    return GoalRead.model_validate(goal)
