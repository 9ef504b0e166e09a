"""Queries on companies, their groups, types, addresses, goals, receivables and statements."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.domain.credit import available_credit
from services.accounts.store.models import (
    Address,
    ClientGroup,
    ClientType,
    Company,
    KnowledgeGoal,
    Membership,
    Receivable,
    Statement,
    User,
    columns_for,
)
from shared.clock import utcnow
from shared.contracts.accounts import CompanyCreditChangedV1, CompanyUpsertedV1
from shared.events.outbox import record_event
from shared.pagination import PageParams, paginate
from shared.problems import FieldError, NotFound, Unprocessable

SALES_STAFF = ("sales_manager", "head_of_sales", "admin")


def _unknown(field: str, message: str) -> Unprocessable:
    """A reference to something that does not exist: 422 naming the field."""
    return Unprocessable(f"Unknown {field}.", errors=[FieldError(field=field, message=message)])


async def get_company(
    session: AsyncSession, company_id: uuid.UUID, *, lock: bool = False
) -> Company:
    stmt = select(Company).where(Company.id == company_id)
    if lock:
        stmt = stmt.with_for_update()
    company = await session.scalar(stmt)
    if company is None:
        raise NotFound("No such company.")
    return company


def companies_query(
    *,
    member_user_id: uuid.UUID | None = None,
    q: str | None = None,
    client_group_id: uuid.UUID | None = None,
    sales_manager_id: uuid.UUID | None = None,
    status: str | None = None,
) -> Select[tuple[Company]]:
    stmt = select(Company)
    if member_user_id is not None:
        stmt = stmt.join(Membership, Membership.company_id == Company.id).where(
            Membership.user_id == member_user_id
        )
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            or_(Company.legal_name.ilike(like), Company.tax_id == q, Company.external_id == q)
        )
    if client_group_id is not None:
        stmt = stmt.where(Company.client_group_id == client_group_id)
    if sales_manager_id is not None:
        stmt = stmt.where(Company.sales_manager_id == sales_manager_id)
    if status is not None:
        stmt = stmt.where(Company.status == status)
    return stmt


async def group_by_code(session: AsyncSession, code: str | None) -> ClientGroup | None:
    if code is None:
        return None
    group = await session.scalar(select(ClientGroup).where(ClientGroup.code == code))
    if group is None:
        raise _unknown("client_group", f"no group {code!r}")
    return group


async def group_codes(
    session: AsyncSession, ids: set[uuid.UUID | None]
) -> dict[uuid.UUID | None, str]:
    """Codes by group id; no group (None) has none."""
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = await session.execute(
        select(ClientGroup.id, ClientGroup.code).where(ClientGroup.id.in_(wanted))
    )
    return {row.id: row.code for row in rows}


async def client_type(session: AsyncSession, code: str | None) -> ClientType | None:
    if code is None:
        return None
    found = await session.get(ClientType, code)
    if found is None:
        raise _unknown("client_type", f"no client type {code!r}")
    return found


async def is_sales_staff(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """Whether the person may be a client's manager (or an interaction's)."""
    user = await session.get(User, user_id)
    return user is not None and user.staff_role in SALES_STAFF


async def check_sales_manager(session: AsyncSession, user_id: uuid.UUID | None) -> None:
    if user_id is not None and not await is_sales_staff(session, user_id):
        raise _unknown("sales_manager_id", "is not a sales manager")


async def client_types(
    session: AsyncSession, page: PageParams
) -> tuple[list[ClientType], str | None]:
    return await paginate(session, select(ClientType), [ClientType.code], page)


async def client_groups(
    session: AsyncSession, page: PageParams
) -> tuple[list[ClientGroup], str | None]:
    return await paginate(session, select(ClientGroup), [ClientGroup.code], page)


async def address(
    session: AsyncSession, company_id: uuid.UUID, address_id: uuid.UUID
) -> Address | None:
    """The company's address; another company's is none of its."""
    found = await session.get(Address, address_id)
    return found if found is not None and found.company_id == company_id else None


async def addresses(
    session: AsyncSession, company_id: uuid.UUID, page: PageParams
) -> tuple[list[Address], str | None]:
    stmt = select(Address).where(Address.company_id == company_id)
    return await paginate(session, stmt, [Address.kind, Address.created_at, Address.id], page)


async def goals(
    session: AsyncSession, company_id: uuid.UUID, year: int | None, page: PageParams
) -> tuple[list[KnowledgeGoal], str | None]:
    stmt = select(KnowledgeGoal).where(KnowledgeGoal.company_id == company_id)
    if year is not None:
        stmt = stmt.where(KnowledgeGoal.year == year)
    return await paginate(session, stmt, [KnowledgeGoal.year, KnowledgeGoal.code], page)


async def goal(
    session: AsyncSession, company_id: uuid.UUID, year: int, code: str
) -> KnowledgeGoal | None:
    return await session.scalar(
        select(KnowledgeGoal).where(
            KnowledgeGoal.company_id == company_id,
            KnowledgeGoal.year == year,
            KnowledgeGoal.code == code,
        )
    )


async def receivable(session: AsyncSession, company_id: uuid.UUID) -> Receivable | None:
    return await session.get(Receivable, company_id)


def statements_query(company_id: uuid.UUID) -> Select[tuple[Statement]]:
    return select(Statement).where(Statement.company_id == company_id)


async def statement(
    session: AsyncSession, company_id: uuid.UUID, statement_id: uuid.UUID
) -> Statement:
    found = await session.get(Statement, statement_id)
    if found is None or found.company_id != company_id:
        raise NotFound("No such statement.")
    return found


async def company_by_external_id(session: AsyncSession, external_id: str) -> Company:
    company = await session.scalar(select(Company).where(Company.external_id == external_id))
    if company is None:
        raise _unknown("external_id", f"no company {external_id!r}")
    return company


# Events --------------------------------------------------------------------------------------


def record_company_upserted(
    session: AsyncSession, company: Company, group_code: str | None
) -> None:
    columns = columns_for(CompanyUpsertedV1, company)
    record_event(
        session,
        CompanyUpsertedV1.model_validate(
            {
                **columns,
                "company_id": company.id,
                "client_group": group_code,
                "card": company.card or {},
                "partners": list(company.partners or []),
            }
        ),
    )


def credit_standing(company: Company, debt: Receivable | None) -> dict[str, Any]:
    balance = debt.balance_minor if debt else 0
    purchase_limit = debt.purchase_limit_minor if debt else None
    return {
        "company_id": company.id,
        "currency": company.currency,
        "credit_limit_minor": company.credit_limit_minor,
        "payment_terms_days": company.payment_terms_days,
        "balance_minor": balance,
        "overdue_minor": debt.overdue_minor if debt else 0,
        "oldest_overdue_date": debt.oldest_overdue_date if debt else None,
        "purchase_limit_minor": purchase_limit,
        "available_credit_minor": available_credit(
            company.credit_limit_minor, purchase_limit, balance
        ),
        "as_of": debt.as_of if debt else None,
    }


def record_credit_changed(session: AsyncSession, company: Company, debt: Receivable | None) -> None:
    standing = credit_standing(company, debt)
    standing.pop("payment_terms_days")
    standing.pop("as_of")
    record_event(session, CompanyCreditChangedV1(**standing, changed_at=utcnow()))
