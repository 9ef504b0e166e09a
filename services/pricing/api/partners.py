"""Per-client partner feeds: a marketplace pulls, for each of its clients registered with us
(accounts: the company's `partners`), that client's own resolved prices, with an ETag."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated

import polars as pl
from fastapi import APIRouter, Header, Path, Request, Response
from pydantic import BaseModel

from services.pricing.price_book.resolve import client_prices
from services.pricing.store import prices as store
from shared.auth import Principal, Role, allow
from shared.clock import today
from shared.db import SessionDep
from shared.fields import Code
from shared.problems import NotFound

router = APIRouter(tags=["partner feeds"])

PartnerCode = Annotated[Code, Path(description="The marketplace partner's code")]
COLUMNS = ["sku", "unit_price_minor", "list_price_minor", "currency"]


def _own_partner(principal: Principal, partner: str) -> None:
    """A partner's key reads only its own feeds; another partner's answer 404."""
    if Role.ADMIN not in principal.roles and principal.partner_code != partner:
        raise NotFound("No such partner feed.")


class PartnerClient(BaseModel):
    company_id: uuid.UUID
    external_id: str | None
    legal_name: str
    prices_url: str


class PartnerClients(BaseModel):
    partner: str
    clients: list[PartnerClient]


@router.get(
    "/feeds/partners/{partner}/clients",
    response_model=PartnerClients,
    summary="The clients registered with a marketplace partner, each with its price feed",
)
async def partner_clients(
    partner: PartnerCode, session: SessionDep, principal: allow(Role.PARTNER, Role.ADMIN)
) -> PartnerClients:
    _own_partner(principal, partner)
    return PartnerClients(
        partner=partner,
        clients=[
            PartnerClient(
                company_id=company_id,
                external_id=external_id,
                legal_name=legal_name,
                prices_url=f"/feeds/partners/{partner}/clients/{company_id}/prices",
            )
            for company_id, external_id, legal_name in await store.partner_clients(session, partner)
        ],
    )


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    sent = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in sent or etag in sent


@router.get(
    "/feeds/partners/{partner}/clients/{company_id}/prices",
    summary="One registered client's resolved prices for a marketplace partner, as CSV",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}},
        304: {"description": "Unchanged since the ETag sent in If-None-Match"},
    },
    description=(
        "Columns `sku,unit_price_minor,list_price_minor,currency`: the client's net price of "
        "every sellable SKU at quantity 1 today, as `POST /prices/resolve` gives it (contract "
        "prices, lists, discounts, floors). The `ETag` is the content's: send it back in "
        "`If-None-Match` and an unchanged feed is a 304 with no body. A client not registered "
        "with the partner (accounts: the company's `partners`) answers 404."
    ),
)
async def partner_client_prices(
    partner: PartnerCode,
    company_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: allow(Role.PARTNER, Role.ADMIN),
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    _own_partner(principal, partner)
    if not await store.partner_clients(session, partner, company_id):
        raise NotFound("No such client of this partner.")
    skus = await store.sellable_skus(session)
    day = today()
    frames = [
        frame.select(COLUMNS)
        async for frame in client_prices(
            request.app.state.price_engine, company_id, skus, currency=None, day=day
        )
    ]
    table = pl.concat(frames) if frames else pl.DataFrame(schema=dict.fromkeys(COLUMNS, pl.Utf8))
    body = table.write_csv().encode()
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/csv", headers=headers)
