"""Quality certificates: ERP uploads them per SKU or per batch, buyers list and download them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.api.products import READERS
from services.catalog.store import certificates as store
from services.catalog.store.models import QualityCertificate
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.fields import BusinessDate, line
from shared.fields import Sku as SkuCode
from shared.files import JPEG, PDF, PNG, checked_type, save_stream, upload_chunks
from shared.pagination import Page, PageParams, page_params, paginate
from shared.problems import Conflict, NotFound

router = APIRouter(tags=["quality certificates"])
UPLOADERS = (Role.INTEGRATOR, Role.ADMIN)
DOCUMENT_TYPES = {PDF, JPEG, PNG}
MAX_CERTIFICATE_BYTES = 20 * 1024 * 1024
Sku = Annotated[SkuCode, Path()]


class CertificateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sku: str
    batch: str | None
    number: str | None
    valid_to: date | None
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime


async def _product(session: AsyncSession, sku: str) -> None:
    if not await store.product_exists(session, sku):
        raise NotFound(f"No product {sku}.")


@router.post(
    "/products/{sku}/certificates",
    status_code=201,
    summary="ERP uploads a quality certificate of a SKU, or of one batch of it",
    responses={409: {"description": "This very file was uploaded for this SKU and batch"}},
)
async def upload_certificate(
    sku: Sku,
    request: Request,
    session: SessionDep,
    principal: allow(*UPLOADERS),
    file: Annotated[UploadFile, File(description="PDF, JPEG or PNG, up to 20 MB")],
    batch: Annotated[
        line(100) | None, Form(description="The batch (lot) it covers; empty: all")
    ] = None,
    number: Annotated[line(100) | None, Form()] = None,
    valid_to: Annotated[BusinessDate | None, Form(description="Last day it is valid")] = None,
) -> CertificateRead:
    content_type = await checked_type(file, DOCUMENT_TYPES)
    await _product(session, sku)
    certificate_id = uuid.uuid4()
    path = FilePath(request.app.state.settings.data_dir) / "certificates" / str(certificate_id)
    size, sha = await save_stream(upload_chunks(file), path, MAX_CERTIFICATE_BYTES)
    certificate = QualityCertificate(
        id=certificate_id,
        sku=sku,
        batch=batch or None,
        number=number or None,
        valid_to=valid_to,
        file_name=FilePath(file.filename or "certificate").name[:300],
        content_type=content_type,
        file_path=str(path),
        size_bytes=size,
        sha256=sha,
    )
    try:
        await store.add(session, certificate)
    except IntegrityError as exc:
        path.unlink(missing_ok=True)
        raise Conflict("This certificate was already uploaded for this SKU and batch.") from exc
    return CertificateRead.model_validate(certificate)


@router.get(
    "/products/{sku}/certificates",
    summary="A SKU's quality certificates, newest first",
    description="With `batch`: the certificates of that batch and those of every batch.",
)
async def list_certificates(
    sku: Sku,
    session: SessionDep,
    principal: allow(*READERS),
    params: Annotated[PageParams, Depends(page_params)],
    batch: Annotated[line(100) | None, Query()] = None,
) -> Page[CertificateRead]:
    await _product(session, sku)
    rows, cursor = await paginate(
        session,
        store.certificates_query(sku, batch),
        [QualityCertificate.uploaded_at, QualityCertificate.id],
        params,
        newest_first=True,
    )
    return Page(items=[CertificateRead.model_validate(r) for r in rows], next_cursor=cursor)


@router.get(
    "/products/{sku}/certificates/{certificate_id}/file",
    summary="Download a quality certificate",
    response_class=FileResponse,
    responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}},
)
async def download_certificate(
    sku: Sku, certificate_id: uuid.UUID, session: SessionDep, principal: allow(*READERS)
) -> FileResponse:
    certificate = await store.certificate(session, sku, certificate_id)
    if certificate is None:
        raise NotFound("No such certificate.")
    return FileResponse(
        certificate.file_path, media_type=certificate.content_type, filename=certificate.file_name
    )
