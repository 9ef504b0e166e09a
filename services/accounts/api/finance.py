"""Credit standing, receivables from ERP, and reconciliation statements buyers download."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import FileResponse

from services.accounts.api.schemas import CreditRead, StatementRead
from services.accounts.usecases import statements as usecase
from services.accounts.usecases.access import PEOPLE
from shared.attachments import Upload, download
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.fields import BusinessDate, CurrencyCode, Reference, SignedMinorUnits
from shared.files import CSV, PDF, XLSX, DataDirDep
from shared.pagination import Page, PageParams, page_params

router = APIRouter(tags=["credit and statements"])
STATEMENT_TYPES = {PDF, CSV, XLSX}


@router.get(
    "/companies/{company_id}/credit", summary="Credit limit, debt and what is left to spend"
)
async def get_credit(
    company_id: uuid.UUID, session: SessionDep, principal: allow(*PEOPLE, Role.SYSTEM)
) -> CreditRead:
    # SYSTEM: orders checks credit at checkout.
    return CreditRead(**await usecase.credit(session, principal, company_id))


@router.post(
    "/statements",
    status_code=201,
    summary="ERP uploads a reconciliation statement (act) for a client",
    responses={409: {"description": "This very statement was uploaded before"}},
)
async def upload_statement(
    data_dir: DataDirDep,
    session: SessionDep,
    principal: allow(Role.INTEGRATOR, Role.ADMIN),
    external_id: Annotated[Reference, Form(description="The client's ERP id")],
    period_from: Annotated[BusinessDate, Form()],
    period_to: Annotated[BusinessDate, Form()],
    currency: Annotated[CurrencyCode, Form()],
    file: Annotated[UploadFile, File(description="PDF, CSV or XLSX")],
    closing_balance_minor: Annotated[SignedMinorUnits | None, Form()] = None,
) -> StatementRead:
    details = usecase.StatementDetails(
        external_id, period_from, period_to, currency, closing_balance_minor
    )
    upload = await Upload.of(file, STATEMENT_TYPES, default_name="statement")
    statement = await usecase.upload_statement(session, data_dir, details, upload)
    return StatementRead.model_validate(statement)


@router.get("/companies/{company_id}/statements", summary="The company's statements, latest first")
async def list_statements(
    company_id: uuid.UUID,
    session: SessionDep,
    principal: allow(*PEOPLE),
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[StatementRead]:
    rows, cursor = await usecase.statements(session, principal, company_id, params)
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
    return download(await usecase.statement(session, principal, company_id, statement_id))
