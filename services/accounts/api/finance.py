"""Credit standing, receivables from ERP, and reconciliation statements buyers download."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy.exc import IntegrityError

from services.accounts.api.access import PEOPLE, visible_company
from services.accounts.api.schemas import CreditRead, StatementRead
from services.accounts.store import companies as store
from services.accounts.store.models import Statement
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.fields import BusinessDate, CurrencyCode, Reference, SignedMinorUnits
from shared.files import CSV, PDF, XLSX, checked_type, save_stream, upload_chunks
from shared.pagination import Page, PageParams, page_params, paginate
from shared.problems import Conflict, FieldError, Unprocessable

router = APIRouter(tags=["credit and statements"])
STATEMENT_TYPES = {PDF, CSV, XLSX}
MAX_STATEMENT_BYTES = 50 * 1024 * 1024


@router.get(
    "/companies/{company_id}/credit", summary="Credit limit, debt and what is left to spend"
)
async def get_credit(
    company_id: uuid.UUID, session: SessionDep, principal: allow(*PEOPLE, Role.SYSTEM)
) -> CreditRead:
    # SYSTEM: orders checks credit at checkout.
    company = await visible_company(session, principal, company_id)
    return CreditRead(**store.credit_standing(company, await store.receivable(session, company_id)))


@router.post(
    "/statements",
    status_code=201,
    summary="ERP uploads a reconciliation statement (act) for a client",
    responses={409: {"description": "This very statement was uploaded before"}},
)
async def upload_statement(
    request: Request,
    session: SessionDep,
    principal: allow(Role.INTEGRATOR, Role.ADMIN),
    external_id: Annotated[Reference, Form(description="The client's ERP id")],
    period_from: Annotated[BusinessDate, Form()],
    period_to: Annotated[BusinessDate, Form()],
    currency: Annotated[CurrencyCode, Form()],
    file: Annotated[UploadFile, File(description="PDF, CSV or XLSX")],
    closing_balance_minor: Annotated[SignedMinorUnits | None, Form()] = None,
) -> StatementRead:
    if period_to < period_from:
        raise Unprocessable(
            "The period ends before it starts.",
            errors=[FieldError(field="period_to", message="before period_from")],
        )
    content_type = await checked_type(file, STATEMENT_TYPES)
    company = await store.company_by_external_id(session, external_id)
    statement_id = uuid.uuid4()
    path = (
        Path(request.app.state.settings.data_dir)
        / "statements"
        / str(company.id)
        / str(statement_id)
    )
    size, sha = await save_stream(upload_chunks(file), path, MAX_STATEMENT_BYTES)
    statement = Statement(
        id=statement_id,
        company_id=company.id,
        period_from=period_from,
        period_to=period_to,
        currency=currency,
        closing_balance_minor=closing_balance_minor,
        file_name=Path(file.filename or "statement").name[:300],
        content_type=content_type,
        file_path=str(path),
        size_bytes=size,
        sha256=sha,
    )
    session.add(statement)
    try:
        await session.flush()
    except IntegrityError as exc:
        path.unlink(missing_ok=True)
        raise Conflict("This statement was already uploaded.") from exc
    return StatementRead.model_validate(statement)


@router.get("/companies/{company_id}/statements", summary="The company's statements, latest first")
async def list_statements(
    company_id: uuid.UUID,
    session: SessionDep,
    principal: allow(*PEOPLE),
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[StatementRead]:
    await visible_company(session, principal, company_id)
    rows, cursor = await paginate(
        session,
        store.statements_query(company_id),
        [Statement.period_to, Statement.id],
        params,
        newest_first=True,
    )
    return Page(items=[StatementRead.model_validate(r) for r in rows], next_cursor=cursor)


@router.get(
    "/companies/{company_id}/statements/{statement_id}/file",
    summary="Download a statement",
    response_class=FileResponse,
    responses={200: {"content": {"application/pdf": {}, "text/csv": {}}}},
)
async def download_statement(
    company_id: uuid.UUID, statement_id: uuid.UUID, session: SessionDep, principal: allow(*PEOPLE)
) -> FileResponse:
    await visible_company(session, principal, company_id)
    statement = await store.statement(session, company_id, statement_id)
    return FileResponse(
        statement.file_path, media_type=statement.content_type, filename=statement.file_name
    )
