"""The base: clients by segment (filters, cursor pages), counts per segment, SKU ABC/XYZ, the
client-base summary, and the full recompute. Staff only; the list of clients holds the clients
the caller reaches (a sales manager its own), the counts and the summary are of the whole base
(no client in them is named)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.analytics.api.deps import SettingsDep
from services.analytics.api.schemas import (
    BaseSummary,
    ClientSegmentRow,
    RecomputeResult,
    SegmentCounts,
    SkuSegmentRow,
)
from services.analytics.store import queries
from services.analytics.usecases.recompute import recompute_all
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.fields import Code, CurrencyCode, line
from shared.pagination import (
    Page,
    PageDep,
    PageParams,
    decode_cursor,
    encode_cursor,
    page_of,
    page_params,
)
from shared.problems import Unprocessable

router = APIRouter(tags=["segments"])
pages = APIRouter(tags=["segments"])
STAFF = (Role.SALES_MANAGER, Role.HEAD_OF_SALES, Role.PRICING_MANAGER, Role.ADMIN, Role.SYSTEM)
Many = Annotated[list[Code] | None, Query(max_length=50)]


async def client_filters(
    abc_revenue: Many = None,
    abc_margin: Many = None,
    xyz: Many = None,
    rfm_segment: Many = None,
    regularity: Many = None,
    check_tier: Many = None,
    ladder: Many = None,
    payment_behaviour: Many = None,
    concentration: Many = None,
    currency: Many = None,
    churn_raised: bool | None = None,
    min_churn_score: Annotated[int | None, Query(ge=0, le=100)] = None,
    sales_manager_id: uuid.UUID | None = None,
    industry: Annotated[line(100) | None, Query()] = None,
) -> dict[str, object]:
    return dict(locals())


@router.get(
    "/segments/clients",
    summary="Clients with their segments, filtered, by client id",
    description="A sales manager gets the clients assigned to it; other staff every client.",
)
async def list_clients(
    session: SessionDep,
    principal: allow(*STAFF),
    filters: Annotated[dict[str, object], Depends(client_filters)],
    page: Annotated[PageParams, Depends(page_params)],
) -> Page[ClientSegmentRow]:
    after = None
    if page.cursor:
        values = decode_cursor(page.cursor)
        try:
            after = uuid.UUID(str(values[0]))
        except (ValueError, IndexError) as exc:
            raise Unprocessable("The cursor does not fit this list.") from exc
    rows = await queries.segment_page(session, principal, filters, after, page.limit)
    cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        cursor = encode_cursor([str(rows[-1][0].client_id)])
    # Every field but the client's name is the segment's column of the same name.
    columns = ClientSegmentRow.model_fields.keys() - {"legal_name"}
    items = [
        ClientSegmentRow(legal_name=name, **{c: getattr(s, c) for c in columns}) for s, name in rows
    ]
    return Page(items=items, next_cursor=cursor)


@pages.get("/segments", summary="How many clients each segment of each dimension holds")
async def segment_counts(
    session: SessionDep,
    principal: allow(*STAFF),
    page: PageDep,
    currency: CurrencyCode | None = None,
) -> Page[SegmentCounts]:
    counts = await queries.segment_counts(session, currency)
    order = list(counts)  # the dimensions in their own order, not the alphabet's
    items = [SegmentCounts(dimension=k, counts=v) for k, v in counts.items()]
    return Page.of(page_of(items, lambda c: (order.index(c.dimension),), page), lambda c: c)


@router.get("/segments/skus", summary="SKU ABC by revenue and XYZ by monthly quantity")
async def list_skus(
    session: SessionDep,
    principal: allow(*STAFF),
    page: Annotated[PageParams, Depends(page_params)],
    abc: Many = None,
    xyz: Many = None,
    currency: Many = None,
) -> Page[SkuSegmentRow]:
    after = None
    if page.cursor:
        values = decode_cursor(page.cursor)
        if len(values) != 2:
            raise Unprocessable("The cursor does not fit this list.")
        after = (str(values[0]), str(values[1]))
    rows = await queries.sku_page(
        session, {"abc": abc, "xyz": xyz, "currency": currency}, after, page.limit
    )
    cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        cursor = encode_cursor([rows[-1].sku, rows[-1].currency])
    return Page(
        items=[SkuSegmentRow.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=cursor,
    )


@pages.get(
    "/client-base/summary",
    summary="The client base per currency, by currency: segments, matrix, retention, "
    "concentration, NPS",
)
async def summary(
    session: SessionDep,
    principal: allow(*STAFF),
    page: PageDep,
    currency: CurrencyCode | None = None,
) -> Page[BaseSummary]:
    return Page.of(
        await queries.summaries(session, currency, page),
        lambda r: BaseSummary(
            currency=r.currency, computed_at=r.computed_at, summary=r.stats["summary"]
        ),
    )


@router.post("/recompute", summary="Recompute every client's segments now (admin)")
async def recompute(
    settings: SettingsDep, session: SessionDep, principal: allow(Role.ADMIN, Role.SYSTEM)
) -> RecomputeResult:
    result = await recompute_all(session, settings)
    return RecomputeResult.model_validate(result)
