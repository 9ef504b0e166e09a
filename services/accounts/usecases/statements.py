"""Credit standing and receivables from ERP, and the reconciliation statements (acts) ERP
uploads and the client's people download."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.store import companies as store
from services.accounts.store.models import Statement
from services.accounts.usecases.access import visible_company
from shared.attachments import Upload, attach
from shared.auth import Principal
from shared.pagination import PageParams, paginate
from shared.problems import FieldError, Unprocessable

MAX_STATEMENT_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class StatementDetails:
    external_id: str  # the client's ERP id
    period_from: date
    period_to: date
    currency: str
    closing_balance_minor: int | None = None


async def credit(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID
) -> dict[str, Any]:
    """Credit limit, debt and what is left to spend, for whoever may see the company."""
    company = await visible_company(session, principal, company_id)
    return store.credit_standing(company, await store.receivable(session, company_id))


async def upload_statement(
    session: AsyncSession, data_dir: str, details: StatementDetails, upload: Upload
) -> Statement:
    """Keep ERP's statement for its client; the very same file for the same period is a 409."""
    if details.period_to < details.period_from:
        raise Unprocessable(
            "The period ends before it starts.",
            errors=[FieldError(field="period_to", message="before period_from")],
        )
    company = await store.company_by_external_id(session, details.external_id)
    statement = Statement(
        company_id=company.id,
        period_from=details.period_from,
        period_to=details.period_to,
        currency=details.currency,
        closing_balance_minor=details.closing_balance_minor,
    )
    await attach(
        session,
        statement,
        upload,
        Path(data_dir) / "statements" / str(company.id),
        limit=MAX_STATEMENT_BYTES,
        duplicate="This statement was already uploaded.",
    )
    return statement


async def statements(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID, params: PageParams
) -> tuple[list[Statement], str | None]:
    """The company's statements, latest period first."""
    await visible_company(session, principal, company_id)
    return await paginate(
        session,
        store.statements_query(company_id),
        [Statement.period_to, Statement.id],
        params,
        newest_first=True,
    )


async def statement(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID, statement_id: uuid.UUID
) -> Statement:
    await visible_company(session, principal, company_id)
    return await store.statement(session, company_id, statement_id)
