"""Companies (clients): the list a caller reaches, create and change (with If-Match), the
client card, client types and client groups. Every write of a company gives it a new version
and tells other services (`company.upserted`, and `company.credit_changed` when its credit
terms changed)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.domain.card import CardField, validate_card
from services.accounts.store import companies as store
from services.accounts.store.models import ClientGroup, ClientType, Company
from services.accounts.usecases.access import CLIENTS, check_if_match, user_id, visible_company
from shared.auth import Principal
from shared.clock import utcnow
from shared.pagination import PageParams, paginate
from shared.problems import Conflict, Unprocessable
from shared.scope import assigned_manager

CREDIT_FIELDS = ("credit_limit_minor", "currency")


@dataclass(frozen=True)
class CompanyView:
    company: Company
    group_code: str | None


@dataclass(frozen=True)
class Card:
    """A company's card: the fields its client type has, the values it holds, its version."""

    company_id: uuid.UUID
    client_type: str | None
    fields: list[CardField]
    values: dict[str, Any]
    version: int

    @classmethod
    def of(cls, company: Company, fields: list[CardField]) -> Card:
        return cls(company.id, company.client_type, fields, company.card, company.version)


async def _views(session: AsyncSession, companies: list[Company]) -> list[CompanyView]:
    """Each company with its group's code (the rows hold the group's id)."""
    codes = await store.group_codes(session, {c.client_group_id for c in companies})
    return [CompanyView(c, codes.get(c.client_group_id)) for c in companies]


async def _view(session: AsyncSession, company: Company) -> CompanyView:
    return (await _views(session, [company]))[0]


async def _for_write(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID, if_match: str | None
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


async def _flushed(session: AsyncSession, conflict: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(conflict) from exc


async def list_companies(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    q: str | None = None,
    client_group: str | None = None,
    sales_manager_id: uuid.UUID | None = None,
    status: str | None = None,
) -> tuple[list[CompanyView], str | None]:
    """Staff the clients they reach, a client's user the companies it belongs to."""
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
    return await _views(session, rows), cursor


async def create_company(
    session: AsyncSession, principal: Principal, values: dict[str, Any], *, names_manager: bool
) -> CompanyView:
    """`values` are a company's fields with `client_group` as a code. A sales manager's new
    company is assigned to it unless it names a manager (`names_manager`)."""
    values = dict(values)
    if not names_manager:
        # Otherwise the company would be out of its creator's reach the moment it exists.
        values["sales_manager_id"] = assigned_manager(principal)
    group = await store.group_by_code(session, values.pop("client_group", None))
    await store.client_type(session, values.get("client_type"))
    await store.check_sales_manager(session, values.get("sales_manager_id"))
    company = Company(**values, client_group_id=group.id if group else None)
    _status_set(company, None)
    session.add(company)
    await _flushed(session, "A company with this external_id exists.")
    view = CompanyView(company, group.code if group else None)
    store.record_company_upserted(session, company, view.group_code)
    if company.credit_limit_minor is not None:
        store.record_credit_changed(session, company, None)
    return view


async def get_company(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID
) -> CompanyView:
    return await _view(session, await visible_company(session, principal, company_id))


async def update_company(
    session: AsyncSession,
    principal: Principal,
    company_id: uuid.UUID,
    if_match: str | None,
    changes: dict[str, Any],
) -> CompanyView:
    """Only the fields in `changes` change (`client_group` as a code, `partners` as a set)."""
    company = await _for_write(session, principal, company_id, if_match)
    changes = dict(changes)
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
    await _flushed(session, "Another company has this external_id.")
    view = await _view(session, company)
    store.record_company_upserted(session, company, view.group_code)
    if tuple(getattr(company, f) for f in CREDIT_FIELDS) != credit_before:
        store.record_credit_changed(session, company, await store.receivable(session, company.id))
    return view


# The client card: what the seller knows of the client. Staff only: clients never see it.


async def _card_fields(session: AsyncSession, company: Company) -> list[CardField]:
    kind = await store.client_type(session, company.client_type)
    return [CardField.model_validate(f) for f in kind.card_fields] if kind else []


async def get_card(session: AsyncSession, principal: Principal, company_id: uuid.UUID) -> Card:
    company = await visible_company(session, principal, company_id)
    return Card.of(company, await _card_fields(session, company))


async def replace_card(
    session: AsyncSession,
    principal: Principal,
    company_id: uuid.UUID,
    if_match: str | None,
    values: dict[str, Any],
) -> Card:
    """The whole card, checked against its client type's fields: fields left out are cleared."""
    company = await _for_write(session, principal, company_id, if_match)
    fields = await _card_fields(session, company)
    checked, errors = validate_card(fields, values)
    if errors:
        raise Unprocessable("The card has invalid fields.", errors=errors)
    company.card = checked
    _changed(company)
    await session.flush()
    # Analytics reads size and purchase potential from the card (share of wallet, peers).
    store.record_company_upserted(session, company, (await _view(session, company)).group_code)
    return Card.of(company, fields)


# Client types and groups


async def client_types(
    session: AsyncSession, page: PageParams
) -> tuple[list[ClientType], str | None]:
    return await store.client_types(session, page)


async def put_client_type(
    session: AsyncSession, code: str, name: str, card_fields: list[CardField]
) -> ClientType:
    keys = [f.key for f in card_fields]
    if len(keys) != len(set(keys)):
        raise Unprocessable("Card field keys must be unique.")
    fields = [f.model_dump(mode="json") for f in card_fields]
    kind = await session.get(ClientType, code)
    if kind is None:
        kind = ClientType(code=code, name=name, card_fields=fields)
        session.add(kind)
    else:
        kind.name, kind.card_fields, kind.updated_at = name, fields, utcnow()
    await session.flush()
    return kind


async def client_groups(
    session: AsyncSession, page: PageParams
) -> tuple[list[ClientGroup], str | None]:
    return await store.client_groups(session, page)


async def create_client_group(session: AsyncSession, code: str, name: str) -> ClientGroup:
    group = ClientGroup(code=code, name=name)
    session.add(group)
    await _flushed(session, f"The group {code!r} exists.")
    return group
