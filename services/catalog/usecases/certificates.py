"""Quality certificates: ERP uploads them per SKU or per batch (kept with the kernel's
attachments), buyers list and download them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.store import certificates as store
from services.catalog.store.models import QualityCertificate
from services.catalog.usecases.products import product
from shared.attachments import Upload, attach
from shared.pagination import PageParams, paginate
from shared.problems import NotFound

MAX_CERTIFICATE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class CertificateDetails:
    batch: str | None = None  # None: every batch of the SKU
    number: str | None = None
    valid_to: date | None = None


async def upload_certificate(
    session: AsyncSession, data_dir: str, sku: str, details: CertificateDetails, upload: Upload
) -> QualityCertificate:
    """Keep the certificate of a SKU (or one batch of it); the same file again is a 409."""
    await product(session, sku)  # 404 for an unknown SKU
    certificate = QualityCertificate(
        sku=sku,
        batch=details.batch or None,
        number=details.number or None,
        valid_to=details.valid_to,
    )
    await attach(
        session,
        certificate,
        upload,
        Path(data_dir) / "certificates",
        limit=MAX_CERTIFICATE_BYTES,
        duplicate="This certificate was already uploaded for this SKU and batch.",
    )
    return certificate


async def certificates(
    session: AsyncSession, sku: str, batch: str | None, params: PageParams
) -> tuple[list[QualityCertificate], str | None]:
    """A SKU's certificates, newest first; with a batch, that batch's and every batch's."""
    await product(session, sku)  # 404 for an unknown SKU
    return await paginate(
        session,
        store.certificates_query(sku, batch),
        [QualityCertificate.uploaded_at, QualityCertificate.id],
        params,
        newest_first=True,
    )


async def certificate(
    session: AsyncSession, sku: str, certificate_id: uuid.UUID
) -> QualityCertificate:
    found = await store.certificate(session, sku, certificate_id)
    if found is None:
        raise NotFound("No such certificate.")
    return found
