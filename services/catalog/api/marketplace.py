"""Marketplace feeds: partners (admins say which price list each gets) and the feed a partner
pulls, JSON lines or CSV, with an ETag so an unchanged feed costs a 304."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from services.catalog.domain.marketplace import MEDIA_TYPES
from services.catalog.store.models import MarketplacePartner
from services.catalog.usecases import marketplace as usecase
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.fields import Code, line
from shared.pagination import Page, PageParams, page_params
from shared.problems import Problem

router = APIRouter(tags=["marketplace feeds"])

FEED_READERS = (Role.PARTNER, Role.ADMIN)
PARTNER_READERS = (Role.ADMIN, Role.SALES_MANAGER)
PARTNER_WRITERS = (Role.ADMIN,)
CODE = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
PartnerCode = Annotated[
    str, Path(max_length=64, pattern=CODE, description="The partner code of its API keys")
]


class PartnerWrite(BaseModel):
    name: line(200, min_length=1)
    price_list_code: Code = Field(description="The pricing price list whose prices it gets")


class PartnerRead(BaseModel):
    code: str
    name: str
    price_list_code: str
    feed_url: str = Field(description="Where its feed is, relative to the catalog API")
    created_at: datetime
    updated_at: datetime


def _read(partner: MarketplacePartner) -> PartnerRead:
    return PartnerRead(
        code=partner.code,
        name=partner.name,
        price_list_code=partner.price_list_code,
        feed_url=f"/feeds/marketplace/{partner.code}",
        created_at=partner.created_at,
        updated_at=partner.updated_at,
    )


def _problem(description: str) -> dict[str, object]:
    return {"model": Problem, "description": description}


@router.put(
    "/marketplace/partners/{partner}",
    summary="Add a marketplace partner or change its name or price list",
    responses={
        201: {"model": PartnerRead, "description": "Added"},
        403: _problem("Only admins manage partners"),
        422: _problem("Invalid body, or a price list pricing does not know"),
    },
)
async def put_partner(
    partner: PartnerCode,
    body: PartnerWrite,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: allow(*PARTNER_WRITERS),
) -> PartnerRead:
    saved, created = await usecase.save_partner(
        session, request.app.state.upstreams, principal, partner, body.name, body.price_list_code
    )
    response.status_code = 201 if created else 200
    return _read(saved)


@router.get("/marketplace/partners", summary="Marketplace partners, by code")
async def list_partners(
    session: SessionDep,
    principal: allow(*PARTNER_READERS),
    page: Annotated[PageParams, Depends(page_params)],
) -> Page[PartnerRead]:
    rows, cursor = await usecase.partners(session, page)
    return Page(items=[_read(r) for r in rows], next_cursor=cursor)


@router.get("/marketplace/partners/{partner}", summary="One marketplace partner")
async def get_partner(
    partner: PartnerCode, session: SessionDep, principal: allow(*PARTNER_READERS)
) -> PartnerRead:
    return _read(await usecase.partner(session, partner))


@router.delete(
    "/marketplace/partners/{partner}",
    status_code=204,
    summary="Remove a partner: its feed answers 404 from then on",
)
async def delete_partner(
    partner: PartnerCode, session: SessionDep, principal: allow(*PARTNER_WRITERS)
) -> Response:
    await usecase.remove_partner(session, partner)
    return Response(status_code=204)


FEED_DESCRIPTION = """
The partner's assortment: every active product its price list prices, by SKU, with the list's
price (`price_minor`, integer minor units, of the lowest tier) and `currency`, and the stock
available now (on hand less reserved, all warehouses, in the base unit). JSON lines carry
`attributes` and every price tier (`tiers`) too.

Format: `format=jsonl|csv`, else the `Accept` header (`application/x-ndjson`, `text/csv`);
JSON lines by default. The body streams, a chunk of SKUs at a time.

Caching: the `ETag` is built from versions (the catalog's change sequence, the price lists'
changes catalog has heard of, the partner's settings, the day and the format), so it is known
before the feed is made: send it back in `If-None-Match` and an unchanged feed is a 304 with no
call to pricing and no rows read.
"""


@router.get(
    "/feeds/marketplace/{partner}",
    summary="The partner's catalog feed with its prices and available stock (JSON lines or CSV)",
    description=FEED_DESCRIPTION,
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/x-ndjson": {}, "text/csv": {}}},
        304: {"description": "Unchanged since the ETag sent in If-None-Match"},
        403: _problem("Another partner's feed, or not a partner key"),
        404: _problem("No such partner"),
        406: _problem("Accept names neither JSON lines nor CSV"),
        409: _problem("The partner's price list no longer exists in pricing"),
    },
)
async def marketplace_feed(
    partner: PartnerCode,
    request: Request,
    session: SessionDep,
    principal: allow(*FEED_READERS),
    format: Annotated[
        Literal["jsonl", "csv"] | None, Query(description="Overrides the Accept header")
    ] = None,
    accept: Annotated[str | None, Header()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    feed = await usecase.pull_feed(
        session,
        request.app.state.sessionmaker,
        request.app.state.upstreams,
        principal,
        partner,
        format,
        accept,
        if_none_match,
        request.app.state.settings.marketplace_chunk_skus,
    )
    headers = {"ETag": feed.etag, "Cache-Control": "no-cache", "Vary": "Accept"}
    if feed.unchanged or feed.chunks is None:
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = f'inline; filename="{feed.file_name}"'
    return StreamingResponse(feed.chunks, media_type=MEDIA_TYPES[feed.format], headers=headers)
