"""Per-client partner feeds: a marketplace pulls, for each of its clients registered with us
(accounts: the company's `partners`), that client's own resolved prices, with an ETag."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response
from pydantic import BaseModel

from services.pricing.usecases import partner_feeds as usecase
from shared.auth import Role, allow
from shared.conditional import etag_listed
from shared.db import SessionDep
from shared.fields import Code

router = APIRouter(tags=["partner feeds"])

PartnerCode = Annotated[Code, Path(description="The marketplace partner's code")]


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
    found = await usecase.clients(session, principal, partner)
    return PartnerClients(
        partner=partner,
        clients=[
            PartnerClient(
                company_id=company_id,
                external_id=external_id,
                legal_name=legal_name,
                prices_url=f"/feeds/partners/{partner}/clients/{company_id}/prices",
            )
            for company_id, external_id, legal_name in found
        ],
    )


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
    feed = await usecase.client_price_feed(
        session, request.app.state.price_engine, principal, partner, company_id
    )
    headers = {"ETag": feed.etag, "Cache-Control": "no-cache"}
    if if_none_match and etag_listed(if_none_match, feed.etag):
        return Response(status_code=304, headers=headers)
    return Response(feed.body, media_type="text/csv", headers=headers)
