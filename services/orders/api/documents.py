"""Order documents: ERP attaches invoices, waybills and closing documents to an order; the
client's people list and download them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from services.orders.api.access import visible_order
from services.orders.api.orders import READERS
from services.orders.store.models import Order, OrderDocument
from shared.auth import Role, allow
from shared.contracts.orders import OrderDocumentAddedV1
from shared.db import SessionDep
from shared.events.outbox import record_event
from shared.fields import BusinessDate, Reference
from shared.files import DOCUMENT_TYPES, checked_type, save_stream, upload_chunks
from shared.problems import Conflict, NotFound

router = APIRouter(tags=["order documents"])
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
Kind = Literal["invoice", "waybill", "closing", "certificate", "other"]


class DocumentRead(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    kind: str
    number: str | None
    issued_on: date | None
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime


@router.post(
    "/erp/orders/{reference}/documents",
    status_code=201,
    summary="ERP attaches a document to an order (by our number or ERP's)",
    responses={409: {"description": "This very document is attached already"}},
)
async def attach_document(
    reference: Reference,
    request: Request,
    session: SessionDep,
    principal: allow(Role.INTEGRATOR, Role.ADMIN),
    kind: Annotated[Kind, Form()],
    file: Annotated[UploadFile, File(description="PDF, CSV, XLSX, XML or an image")],
    number: Annotated[Reference | None, Form()] = None,
    issued_on: Annotated[BusinessDate | None, Form()] = None,
) -> DocumentRead:
    content_type = await checked_type(file, DOCUMENT_TYPES)
    order = await session.scalar(
        select(Order).where(or_(Order.number == reference, Order.external_id == reference))
    )
    if order is None:
        raise NotFound(f"No order {reference}.")
    document_id = uuid.uuid4()
    path = Path(request.app.state.settings.data_dir) / "orders" / str(order.id) / str(document_id)
    size, sha = await save_stream(upload_chunks(file), path, MAX_DOCUMENT_BYTES)
    document = OrderDocument(
        id=document_id,
        order_id=order.id,
        kind=kind,
        number=number,
        issued_on=issued_on,
        file_name=Path(file.filename or kind).name[:300],
        content_type=content_type,
        file_path=str(path),
        size_bytes=size,
        sha256=sha,
    )
    session.add(document)
    try:
        await session.flush()
    except IntegrityError as exc:
        path.unlink(missing_ok=True)
        raise Conflict("This document is attached to the order already.") from exc
    record_event(
        session,
        OrderDocumentAddedV1(
            order_id=order.id,
            company_id=order.company_id,
            document_id=document.id,
            kind=kind,
            number=number,
            issued_on=issued_on,
        ),
    )
    return DocumentRead.model_validate(document, from_attributes=True)


@router.get("/orders/{order_id}/documents", summary="The order's documents, oldest first")
async def list_documents(
    order_id: uuid.UUID, session: SessionDep, principal: allow(*READERS)
) -> list[DocumentRead]:
    await visible_order(session, principal, order_id)
    found = await session.scalars(
        select(OrderDocument)
        .where(OrderDocument.order_id == order_id)
        .order_by(OrderDocument.uploaded_at, OrderDocument.id)
    )
    return [DocumentRead.model_validate(d, from_attributes=True) for d in found]


@router.get(
    "/orders/{order_id}/documents/{document_id}/file",
    summary="Download a document",
    response_class=FileResponse,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def download_document(
    order_id: uuid.UUID, document_id: uuid.UUID, session: SessionDep, principal: allow(*READERS)
) -> FileResponse:
    await visible_order(session, principal, order_id)
    document = await session.get(OrderDocument, document_id)
    if document is None or document.order_id != order_id:
        raise NotFound("No such document.")
    return FileResponse(
        document.file_path, media_type=document.content_type, filename=document.file_name
    )
