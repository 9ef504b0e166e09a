"""Order documents: ERP attaches invoices, waybills and closing documents to an order; the
client's people list and download them."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse

from services.orders.usecases import after_sales as usecase
from services.orders.usecases.access import READERS
from shared.attachments import AttachedFileRead, Upload, download
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.fields import BusinessDate, Reference
from shared.files import DOCUMENT_TYPES, DataDirDep
from shared.pagination import Page, PageDep

router = APIRouter(tags=["order documents"])
pages = APIRouter(tags=["order documents"])
Kind = Literal["invoice", "waybill", "closing", "certificate", "other"]


class DocumentRead(AttachedFileRead):
    id: uuid.UUID
    order_id: uuid.UUID
    kind: Kind
    number: str | None
    issued_on: date | None


@router.post(
    "/erp/orders/{reference}/documents",
    status_code=201,
    summary="ERP attaches a document to an order (by our number or ERP's)",
    responses={409: {"description": "This very document is attached already"}},
)
async def attach_document(
    reference: Reference,
    data_dir: DataDirDep,
    session: SessionDep,
    principal: allow(Role.INTEGRATOR, Role.ADMIN),
    kind: Annotated[Kind, Form()],
    file: Annotated[UploadFile, File(description="PDF, CSV, XLSX, XML or an image")],
    number: Annotated[Reference | None, Form()] = None,
    issued_on: Annotated[BusinessDate | None, Form()] = None,
) -> DocumentRead:
    upload = await Upload.of(file, DOCUMENT_TYPES, default_name=kind)
    details = usecase.DocumentDetails(kind=kind, number=number, issued_on=issued_on)
    document = await usecase.attach_document(session, data_dir, reference, details, upload)
    return DocumentRead.model_validate(document, from_attributes=True)


@pages.get("/orders/{order_id}/documents", summary="The order's documents, oldest first")
async def list_documents(
    order_id: uuid.UUID, session: SessionDep, principal: allow(*READERS), page: PageDep
) -> Page[DocumentRead]:
    found = await usecase.documents_of(session, principal, order_id, page)
    return Page.of(found, lambda d: DocumentRead.model_validate(d, from_attributes=True))


@router.get(
    "/orders/{order_id}/documents/{document_id}/file",
    summary="Download a document",
    response_class=FileResponse,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def download_document(
    order_id: uuid.UUID, document_id: uuid.UUID, session: SessionDep, principal: allow(*READERS)
) -> FileResponse:
    document = await usecase.document(session, principal, order_id, document_id)
    return download(document)
