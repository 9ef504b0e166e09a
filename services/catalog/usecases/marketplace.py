"""Marketplace feeds: the partners admins set up (each with the pricing price list it gets)
and the feed a partner pulls, its ETag known before a row is read."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.catalog.clients import pricing
from services.catalog.domain.marketplace import (
    FeedFormat,
    NotAcceptable,
    choose_format,
    etag_matches,
    feed_etag,
)
from services.catalog.store import marketplace as store
from services.catalog.store.models import MarketplacePartner
from shared.auth import Principal, Role
from shared.clock import today
from shared.pagination import PageParams, paginate
from shared.problems import FieldError, Forbidden, NotFound, ProblemError, Unprocessable
from shared.upstream import Upstreams


async def partner(session: AsyncSession, code: str) -> MarketplacePartner:
    found = await store.partner(session, code)
    if found is None:
        raise NotFound(f"No marketplace partner {code}.")
    return found


async def partners(
    session: AsyncSession, page: PageParams
) -> tuple[list[MarketplacePartner], str | None]:
    rows, cursor = await paginate(session, store.partners_query(), [MarketplacePartner.code], page)
    return list(rows), cursor


async def save_partner(
    session: AsyncSession,
    upstreams: Upstreams,
    principal: Principal,
    code: str,
    name: str,
    price_list_code: str,
) -> tuple[MarketplacePartner, bool]:
    """Add or change a partner, once pricing says its price list exists; (partner, created)."""
    if not await pricing.price_list_exists(upstreams, principal, price_list_code):
        raise Unprocessable(
            f"Pricing has no price list {price_list_code}.",
            errors=[FieldError(field="price_list_code", message="is not a known price list")],
        )
    return await store.save_partner(session, code, name, price_list_code)


async def remove_partner(session: AsyncSession, code: str) -> None:
    await store.remove_partner(session, await partner(session, code))


async def count_price_change(session: AsyncSession, change_id: uuid.UUID) -> None:
    """A change of price lists moves every feed's version (once per change)."""
    await store.count_price_list_change(session, change_id)


def may_read_feed(principal: Principal, code: str) -> None:
    """A partner key reads its own feed only; admins any (to check what a partner gets)."""
    if Role.ADMIN in principal.roles:
        return
    if principal.partner_code != code:
        raise Forbidden("A partner key reads only its own partner's feed.")


@dataclass(frozen=True)
class Feed:
    """What a pull answers: the ETag always; unless `unchanged`, the rows a chunk at a time."""

    partner: MarketplacePartner
    format: FeedFormat
    day: date
    etag: str
    unchanged: bool
    chunks: AsyncIterator[bytes] | None = None

    @property
    def file_name(self) -> str:
        return f"{self.partner.code}-{self.day.isoformat()}.{self.format.value}"


async def pull_feed(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    upstreams: Upstreams,
    principal: Principal,
    code: str,
    wanted: str | None,
    accept: str | None,
    if_none_match: str | None,
    chunk_skus: int,
) -> Feed:
    """The partner's feed: 403 for another partner's key, 406 for a format neither JSON lines
    nor CSV, 404 for no such partner; unchanged since `if_none_match` costs no call to
    pricing. The rows are read a chunk at a time, each chunk in its own short session."""
    may_read_feed(principal, code)
    try:
        chosen = choose_format(wanted, accept)
    except NotAcceptable as exc:
        raise ProblemError(str(exc), status=406, slug="not-acceptable") from exc
    found = await partner(session, code)
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
    if etag_matches(if_none_match, etag):
        return Feed(found, chosen, day, etag, unchanged=True)
    prices = await pricing.price_list_prices(upstreams, found.price_list_code, day)
    body = _feed_body(sessionmaker, prices, chosen, chunk_skus)
    return Feed(found, chosen, day, etag, unchanged=False, chunks=body)


def chunks(prices: pl.DataFrame, size: int) -> list[pl.DataFrame]:
    """The price rows (by SKU and tier) cut into chunks of `size` whole SKUs."""
    if prices.height == 0:
        return []
    ranked = prices.with_columns(((pl.col("sku").rank("dense") - 1) // size).alias("_chunk"))
    return ranked.partition_by("_chunk", maintain_order=True, include_key=False)


async def _feed_body(
    sessionmaker: async_sessionmaker[AsyncSession],
    prices: pl.DataFrame,
    chosen: FeedFormat,
    chunk_skus: int,
) -> AsyncIterator[bytes]:
    """A slow reader holds no connection between chunks."""
    write = store.csv_offers if chosen == FeedFormat.CSV else store.jsonl_offers
    if chosen == FeedFormat.CSV:
        yield (",".join(store.CSV_COLUMNS) + "\n").encode()
    currency = prices["currency"][0] if prices.height else ""
    for chunk in chunks(prices, chunk_skus):
        async with sessionmaker() as session:
            yield await write(
                session,
                chunk["sku"].to_list(),
                chunk["min_qty"].to_list(),
                chunk["price_minor"].to_list(),
                currency,
            )
