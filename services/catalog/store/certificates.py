"""Every query of quality certificates."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.store.models import QualityCertificate


def certificates_query(sku: str, batch: str | None) -> Any:
    """A SKU's certificates; with a batch, that batch's and those covering every batch."""
    stmt = select(QualityCertificate).where(QualityCertificate.sku == sku)
    if batch is not None:
        stmt = stmt.where(
            or_(QualityCertificate.batch == batch, QualityCertificate.batch.is_(None))
        )
    return stmt


async def certificate(
    session: AsyncSession, sku: str, certificate_id: uuid.UUID
) -> QualityCertificate | None:
    return await session.scalar(
        select(QualityCertificate).where(
            QualityCertificate.id == certificate_id, QualityCertificate.sku == sku
        )
    )
