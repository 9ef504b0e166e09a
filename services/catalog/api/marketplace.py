"""Marketplace feeds: partners (admins say which price list each gets) and the feed a partner
pulls, JSON lines or CSV, with an ETag so an unchanged feed costs a 304."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Literal

import polars as pl
from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.domain.marketplace import (
    MEDIA_TYPES,
    FeedFormat,
    NotAcceptable,
    choose_format,
    etag_matches,
    feed_etag,
)
from services.catalog.store import marketplace as store
from services.catalog.store.models import MarketplacePartner
from services.catalog.upstream import price_list_exists, price_list_prices
from shared.auth import Principal, Role, allow
from shared.clock import today
from shared.db import SessionDep
from shared.fields import Code, line
from shared.pagination import Page, PageParams, page_params, paginate
from shared.problems import FieldError, Forbidden, NotFound, Problem, ProblemError, Unprocessable

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


async def _known(session: AsyncSession, code: str) -> MarketplacePartner:
    found = await store.partner(session, code)
    if found is None:
        raise NotFound(f"No marketplace partner {code}.")
    return found


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
    if not await price_list_exists(request.app, principal, body.price_list_code):
        raise Unprocessable(
            f"Pricing has no price list {body.price_list_code}.",
            errors=[FieldError(field="price_list_code", message="is not a known price list")],
        )
    saved, created = await store.save_partner(session, partner, body.name, body.price_list_code)
    response.status_code = 201 if created else 200
    return _read(saved)


@router.get("/marketplace/partners", summary="Marketplace partners, by code")
async def list_partners(
    session: SessionDep,
    principal: allow(*PARTNER_READERS),
    page: Annotated[PageParams, Depends(page_params)],
) -> Page[PartnerRead]:
    rows, cursor = await paginate(session, store.partners_query(), [MarketplacePartner.code], page)
    return Page(items=[_read(r) for r in rows], next_cursor=cursor)


@router.get("/marketplace/partners/{partner}", summary="One marketplace partner")
async def get_partner(
    partner: PartnerCode, session: SessionDep, principal: allow(*PARTNER_READERS)
) -> PartnerRead:
    return _read(await _known(session, partner))


@router.delete(
    "/marketplace/partners/{partner}",
    status_code=204,
    summary="Remove a partner: its feed answers 404 from then on",
)
async def delete_partner(
    partner: PartnerCode, session: SessionDep, principal: allow(*PARTNER_WRITERS)
) -> Response:
    await store.remove_partner(session, await _known(session, partner))
    return Response(status_code=204)


def _may_read_feed(principal: Principal, partner: str) -> None:
    """A partner key reads its own feed only; admins any (to check what a partner gets)."""
    if Role.ADMIN in principal.roles:
        return
    if principal.partner_code != partner:
        raise Forbidden("A partner key reads only its own partner's feed.")


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
    _may_read_feed(principal, partner)
    try:
        chosen = choose_format(format, accept)
    except NotAcceptable as exc:
        raise ProblemError(str(exc), status=406, slug="not-acceptable") from exc
    found = await _known(session, partner)
    day = today()
    etag = feed_etag(
        [
            "marketplace.v1",
            found.code,
            found.price_list_code,
            found.updated_at.isoformat(),
            day.isoformat(),
            chosen,
            await store.catalog_version(session),
            await store.price_lists_version(session),
        ]
    )
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept"}
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    prices = await price_list_prices(request.app, found.price_list_code, day)
    headers["Content-Disposition"] = (
        f'inline; filename="{found.code}-{day.isoformat()}.{chosen.value}"'
    )
    return StreamingResponse(
        _feed_body(request, prices, chosen),
        media_type=MEDIA_TYPES[chosen],
        headers=headers,
    )


def _chunks(prices: pl.DataFrame, size: int) -> list[pl.DataFrame]:
    """The price rows (by SKU and tier) cut into chunks of `size` whole SKUs."""
    if prices.height == 0:
        return []
    ranked = prices.with_columns(((pl.col("sku").rank("dense") - 1) // size).alias("_chunk"))
    return ranked.partition_by("_chunk", maintain_order=True, include_key=False)


async def _feed_body(
    request: Request, prices: pl.DataFrame, chosen: FeedFormat
) -> AsyncIterator[bytes]:
    """The feed, a chunk at a time, each chunk in its own short session: a slow reader holds
    no connection between chunks."""
    sessionmaker = request.app.state.sessionmaker
    write = store.csv_offers if chosen == FeedFormat.CSV else store.jsonl_offers
    if chosen == FeedFormat.CSV:
        yield (",".join(store.CSV_COLUMNS) + "\n").encode()
    currency = prices["currency"][0] if prices.height else ""
    for chunk in _chunks(prices, request.app.state.settings.marketplace_chunk_skus):
        async with sessionmaker() as session:
            yield await write(
                session,
                chunk["sku"].to_list(),
                chunk["min_qty"].to_list(),
                chunk["price_minor"].to_list(),
                currency,
            )
