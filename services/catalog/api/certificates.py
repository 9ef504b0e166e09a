"""Quality certificates: ERP uploads them per SKU or per batch, buyers list and download them."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.responses import FileResponse

from services.catalog.api.products import READERS
from services.catalog.usecases import certificates as usecase
from shared.attachments import AttachedFileRead, Upload, download
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.fields import BusinessDate, line
from shared.fields import Sku as SkuCode
from shared.files import JPEG, PDF, PNG, DataDirDep
from shared.pagination import Page, PageParams, page_params

router = APIRouter(tags=["quality certificates"])
UPLOADERS = (Role.INTEGRATOR, Role.ADMIN)
DOCUMENT_TYPES = {PDF, JPEG, PNG}
Sku = Annotated[SkuCode, Path()]


class CertificateRead(AttachedFileRead):
    id: uuid.UUID
    sku: str
    batch: str | None
    number: str | None
    valid_to: date | None


@router.post(
    "/products/{sku}/certificates",
    status_code=201,
    summary="ERP uploads a quality certificate of a SKU, or of one batch of it",
    responses={409: {"description": "This very file was uploaded for this SKU and batch"}},
)
async def upload_certificate(
    sku: Sku,
    data_dir: DataDirDep,
    session: SessionDep,
    principal: allow(*UPLOADERS),
    file: Annotated[UploadFile, File(description="PDF, JPEG or PNG, up to 20 MB")],
    batch: Annotated[
        line(100) | None, Form(description="The batch (lot) it covers; empty: all")
    ] = None,
    number: Annotated[line(100) | None, Form()] = None,
    valid_to: Annotated[BusinessDate | None, Form(description="Last day it is valid")] = None,
) -> CertificateRead:
    upload = await Upload.of(file, DOCUMENT_TYPES, default_name="certificate")
    details = usecase.CertificateDetails(batch=batch, number=number, valid_to=valid_to)
    certificate = await usecase.upload_certificate(session, data_dir, sku, details, upload)
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
    rows, cursor = await usecase.certificates(session, sku, batch, params)
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
    return download(await usecase.certificate(session, sku, certificate_id))
