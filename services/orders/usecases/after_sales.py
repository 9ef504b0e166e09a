"""After the order: ERP's documents (invoice, waybill...) the client's people download, and
the returns and complaints they record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.store import order_queries as queries
from services.orders.store.models import OrderClaim, OrderDocument
from services.orders.store.orders import record_order_event
from services.orders.usecases.access import visible_order
from shared.attachments import Upload, attach
from shared.auth import Principal
from shared.clock import utcnow
from shared.contracts.orders import OrderClaimRecordedV1, OrderDocumentAddedV1
from shared.events.outbox import record_event
from shared.pagination import PageParams, page_of
from shared.problems import FieldError, NotFound, Unprocessable

MAX_DOCUMENT_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class DocumentDetails:
    kind: str
    number: str | None = None
    issued_on: date | None = None


async def attach_document(
    session: AsyncSession,
    data_dir: str,
    reference: str,
    details: DocumentDetails,
    upload: Upload,
) -> OrderDocument:
    """The file kept under the order (by our number or ERP's), `order.document_added` told."""
    order = await queries.by_reference(session, reference)
    if order is None:
        raise NotFound(f"No order {reference}.")
    document = OrderDocument(
        order_id=order.id, kind=details.kind, number=details.number, issued_on=details.issued_on
    )
    await attach(
        session,
        document,
        upload,
        Path(data_dir) / "orders" / str(order.id),
        limit=MAX_DOCUMENT_BYTES,
        duplicate="This document is attached to the order already.",
    )
    record_event(
        session,
        OrderDocumentAddedV1(
            order_id=order.id,
            company_id=order.company_id,
            document_id=document.id,
            kind=details.kind,
            number=details.number,
            issued_on=details.issued_on,
        ),
    )
    return document


async def documents_of(
    session: AsyncSession, principal: Principal, order_id: uuid.UUID, page: PageParams
) -> tuple[list[OrderDocument], str | None]:
    await visible_order(session, principal, order_id)
    found = await queries.documents_of(session, order_id)
    return page_of(found, lambda d: (d.uploaded_at.isoformat(), str(d.id)), page)


async def document(
    session: AsyncSession, principal: Principal, order_id: uuid.UUID, document_id: uuid.UUID
) -> OrderDocument:
    await visible_order(session, principal, order_id)
    found = await session.get(OrderDocument, document_id)
    if found is None or found.order_id != order_id:
        raise NotFound("No such document.")
    return found


async def record_claim(
    session: AsyncSession,
    principal: Principal,
    order_id: uuid.UUID,
    kind: str,
    reason_code: str,
    comment: str | None,
    amount_minor: int | None,
) -> OrderClaim:
    """A return or a complaint; no more returned than the order was worth."""
    order = await visible_order(session, principal, order_id)
    if amount_minor is not None and amount_minor > order.total_minor:
        raise Unprocessable(
            "More cannot be returned than the order was worth.",
            errors=[FieldError(field="amount_minor", message=f"at most {order.total_minor}")],
        )
    claim = OrderClaim(
        id=uuid.uuid4(),
        order_id=order.id,
        company_id=order.company_id,
        kind=kind,
        reason_code=reason_code,
        comment=comment,
        amount_minor=amount_minor,
        recorded_by=str(principal.subject),
        recorded_at=utcnow(),
    )
    session.add(claim)
    record_order_event(
        session,
        OrderClaimRecordedV1,
        order,
        claim_id=claim.id,
        kind=kind,
        reason_code=reason_code,
        comment=comment,
        amount_minor=amount_minor,
        currency=order.currency,
        recorded_by=claim.recorded_by,
        recorded_at=claim.recorded_at,
    )
    await session.flush()
    return claim


async def claims_of(
    session: AsyncSession, principal: Principal, order_id: uuid.UUID, page: PageParams
) -> tuple[list[OrderClaim], str | None]:
    await visible_order(session, principal, order_id)
    found = await queries.claims_of(session, order_id)
    return page_of(found, lambda c: (c.recorded_at.isoformat(), str(c.id)), page)
