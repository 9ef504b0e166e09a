"""A marketplace partner's feeds: the clients registered with it (accounts: the company's
`partners`), and each one's own resolved prices as CSV, with the content's ETag."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.price_book.engine import PriceEngine
from services.pricing.price_book.resolve import client_prices
from services.pricing.store import prices as store
from shared.auth import Principal, Role
from shared.clock import today
from shared.conditional import strong_etag
from shared.problems import NotFound

COLUMNS = ["sku", "unit_price_minor", "list_price_minor", "currency"]


@dataclass(frozen=True)
class PriceFeed:
    body: bytes
    etag: str


def _own_partner(principal: Principal, partner: str) -> None:
    """A partner's key reads only its own feeds; another partner's answer 404."""
    if Role.ADMIN not in principal.roles and principal.partner_code != partner:
        raise NotFound("No such partner feed.")


async def clients(
    session: AsyncSession, principal: Principal, partner: str
) -> list[tuple[uuid.UUID, str | None, str]]:
    """(company id, ERP id, legal name) of every client registered with the partner."""
    _own_partner(principal, partner)
    return list(await store.partner_clients(session, partner))


async def client_price_feed(
    session: AsyncSession,
    engine: PriceEngine,
    principal: Principal,
    partner: str,
    company_id: uuid.UUID,
) -> PriceFeed:
    """The client's net price of every sellable SKU at quantity 1 today."""
    _own_partner(principal, partner)
    if not await store.partner_clients(session, partner, company_id):
        raise NotFound("No such client of this partner.")
    skus = await store.sellable_skus(session)
    frames = [
        frame.select(COLUMNS)
        async for frame in client_prices(engine, company_id, skus, currency=None, day=today())
    ]
    table = pl.concat(frames) if frames else pl.DataFrame(schema=dict.fromkeys(COLUMNS, pl.Utf8))
    body = table.write_csv().encode()
    return PriceFeed(body, strong_etag(body))
