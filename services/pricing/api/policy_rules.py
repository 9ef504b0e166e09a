"""Commercial policy across clients: floor prices, promotions and turnover ladders (and which
ladder a client is on). Admins write, staff read (api/policy.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.pricing.api.policy_common import (
    CREATE_ERRORS,
    READ_ERRORS,
    READ_ONE_ERRORS,
    READERS,
    WRITE_ERRORS,
    WRITE_ONE_ERRORS,
    WRITERS,
    CodePath,
    CompanyId,
    Pages,
    SkuPath,
    problem,
)
from services.pricing.api.policy_schemas import (
    ClientLadderRead,
    ClientLadderWrite,
    FloorPriceRead,
    FloorPriceWrite,
    LadderCreate,
    LadderLevel,
    LadderRead,
    PromotionCreate,
    PromotionRead,
)
from services.pricing.domain.percents import CENT
from services.pricing.store import policy as store
from services.pricing.store import policy_rules as rules_store
from services.pricing.store.models import FloorPrice, Ladder, Promotion
from services.pricing.usecases import policy_rules as policy_flows
from services.pricing.usecases.access import client_to_change, client_to_read
from shared.auth import allow
from shared.db import SessionDep
from shared.fields import BusinessDate, CurrencyCode, Sku
from shared.links import public_path
from shared.pagination import Page, paginate
from shared.problems import NotFound
from shared.reads import read_of
from shared.upstream import UpstreamsDep

router = APIRouter(tags=["commercial policy"])
NO_LADDER = {404: problem("No such client, or it is on no ladder")}


# Floors --------------------------------------------------------------------------------------


@router.put(
    "/floor-prices/{sku}",
    response_model=FloorPriceRead,
    summary="Set a SKU's floor price in a currency",
    description="No resolved price of the SKU in that currency ever goes below its floor.",
    responses=WRITE_ONE_ERRORS,
)
async def put_floor(
    sku: SkuPath,
    body: FloorPriceWrite,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> FloorPriceRead:
    await policy_flows.set_floor(session, sku, body.currency, body.price_minor)
    return FloorPriceRead(sku=sku, currency=body.currency, price_minor=body.price_minor)


@router.delete(
    "/floor-prices/{sku}",
    status_code=204,
    summary="Remove a SKU's floor price in a currency",
    responses=WRITE_ONE_ERRORS,
)
async def delete_floor(
    sku: SkuPath,
    currency: Annotated[CurrencyCode, Query(description="The floor's currency")],
    session: SessionDep,
    principal: allow(*WRITERS),
) -> Response:
    await policy_flows.remove_floor(session, sku, currency)
    return Response(status_code=204)


@router.get(
    "/floor-prices",
    response_model=Page[FloorPriceRead],
    summary="Floor prices",
    responses={**READ_ERRORS, 422: problem("Unknown SKU or bad cursor")},
)
async def list_floors(
    session: SessionDep,
    principal: allow(*READERS),
    params: Pages,
    sku: Annotated[Sku | None, Query(description="Only this SKU")] = None,
    currency: Annotated[CurrencyCode | None, Query()] = None,
) -> Page[FloorPriceRead]:
    sku_id = await store.sku_id(session, sku, field="sku", body=True) if sku else None
    stmt = rules_store.floors_query(sku=sku_id, currency=currency)
    rows, cursor = await paginate(session, stmt, [FloorPrice.sku_id, FloorPrice.currency], params)
    codes = await store.sku_codes(session, (r.sku_id for r in rows))
    return Page(
        items=[
            FloorPriceRead(sku=codes[r.sku_id], currency=r.currency, price_minor=r.price_minor)
            for r in rows
            if r.sku_id in codes
        ],
        next_cursor=cursor,
    )


# Promotions ----------------------------------------------------------------------------------


@router.post(
    "/promotions",
    status_code=201,
    response_model=PromotionRead,
    summary="Create a promotion",
    description=(
        "Percent off list prices of one SKU, a brand or a category from `valid_from` until "
        "the day before `valid_to` (null: open). The best promotion for a line applies."
    ),
    responses=CREATE_ERRORS,
)
async def create_promotion(
    body: PromotionCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> PromotionRead:
    promotion = await policy_flows.add_promotion(
        session, {**body.model_dump(exclude={"percent"}), "percent": body.percent.quantize(CENT)}
    )
    response.headers["Location"] = public_path(request, "get_promotion", code=promotion.code)
    return PromotionRead.model_validate(promotion)


@router.get(
    "/promotions",
    response_model=Page[PromotionRead],
    summary="Promotions, by code",
    responses=READ_ERRORS,
)
async def list_promotions(
    session: SessionDep,
    principal: allow(*READERS),
    params: Pages,
    scope: Annotated[str | None, Query(pattern=r"^(sku|brand|category)$")] = None,
    active_on: Annotated[
        BusinessDate | None, Query(description="Only those valid on this day")
    ] = None,
) -> Page[PromotionRead]:
    stmt = rules_store.promotions_query(scope=scope, active_on=active_on)
    rows, cursor = await paginate(session, stmt, [Promotion.code], params)
    return Page(items=[PromotionRead.model_validate(r) for r in rows], next_cursor=cursor)


@router.get(
    "/promotions/{code}",
    response_model=PromotionRead,
    summary="One promotion",
    responses=READ_ONE_ERRORS,
)
async def get_promotion(
    code: CodePath, session: SessionDep, principal: allow(*READERS)
) -> PromotionRead:
    return PromotionRead.model_validate(await rules_store.get_promotion(session, code))


@router.delete(
    "/promotions/{code}",
    status_code=204,
    summary="End and remove a promotion",
    responses=WRITE_ONE_ERRORS,
)
async def delete_promotion(
    code: CodePath, session: SessionDep, principal: allow(*WRITERS)
) -> Response:
    await policy_flows.remove_promotion(session, code)
    return Response(status_code=204)


# Ladders -------------------------------------------------------------------------------------


def _ladder_read(ladder: Ladder) -> LadderRead:
    return read_of(
        LadderRead, ladder, levels=[LadderLevel.model_validate(level) for level in ladder.levels]
    )


@router.post(
    "/ladders",
    status_code=201,
    response_model=LadderRead,
    summary="Create a turnover ladder",
    description=(
        "Levels of turnover in the period (calendar month, quarter or year, in the ladder's "
        "currency): from each `threshold_minor` on, `discount_percent` comes off list prices "
        "and `bonus_percent` of the period's turnover accrues as a retro bonus. Thresholds "
        "rise strictly from level to level."
    ),
    responses=CREATE_ERRORS,
)
async def create_ladder(
    body: LadderCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> LadderRead:
    levels = [
        {
            "threshold_minor": level.threshold_minor,
            "discount_percent": str(level.discount_percent.quantize(CENT)),
            "bonus_percent": str(level.bonus_percent.quantize(CENT)),
        }
        for level in body.levels
    ]
    ladder = await policy_flows.add_ladder(
        session,
        Ladder(
            code=body.code,
            name=body.name,
            period=body.period,
            currency=body.currency,
            levels=levels,
        ),
    )
    response.headers["Location"] = public_path(request, "get_ladder", code=ladder.code)
    return _ladder_read(ladder)


@router.get(
    "/ladders",
    response_model=Page[LadderRead],
    summary="Turnover ladders, by code",
    responses=READ_ERRORS,
)
async def list_ladders(
    session: SessionDep, principal: allow(*READERS), params: Pages
) -> Page[LadderRead]:
    rows, cursor = await paginate(session, rules_store.ladders_query(), [Ladder.code], params)
    return Page(items=[_ladder_read(r) for r in rows], next_cursor=cursor)


@router.get(
    "/ladders/{code}",
    response_model=LadderRead,
    summary="One turnover ladder",
    responses=READ_ONE_ERRORS,
)
async def get_ladder(code: CodePath, session: SessionDep, principal: allow(*READERS)) -> LadderRead:
    return _ladder_read(await rules_store.get_ladder(session, code))


@router.put(
    "/clients/{company_id}/ladder",
    response_model=ClientLadderRead,
    summary="Put a client on a turnover ladder",
    description="A client is on one ladder at most; this replaces the one it was on.",
    responses=WRITE_ONE_ERRORS,
)
async def put_client_ladder(
    company_id: CompanyId,
    body: ClientLadderWrite,
    upstreams: UpstreamsDep,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> ClientLadderRead:
    client = await client_to_change(upstreams, session, principal, company_id)
    ladder = await policy_flows.assign_ladder(session, client, body.ladder_code)
    return ClientLadderRead(company_id=company_id, ladder_code=ladder.code)


@router.get(
    "/clients/{company_id}/ladder",
    response_model=ClientLadderRead,
    summary="The ladder a client is on",
    responses={**READ_ERRORS, **NO_LADDER},
)
async def get_client_ladder(
    company_id: CompanyId, session: SessionDep, principal: allow(*READERS)
) -> ClientLadderRead:
    client = await client_to_read(session, principal, company_id)
    code = await rules_store.client_ladder_code(session, client.id)
    if code is None:
        raise NotFound("The client is on no ladder.")
    return ClientLadderRead(company_id=company_id, ladder_code=code)


@router.delete(
    "/clients/{company_id}/ladder",
    status_code=204,
    summary="Take a client off its ladder",
    responses={**WRITE_ERRORS, **NO_LADDER},
)
async def delete_client_ladder(
    company_id: CompanyId, session: SessionDep, principal: allow(*WRITERS)
) -> Response:
    client = await client_to_read(session, principal, company_id, lock=True)
    await policy_flows.unassign_ladder(session, client)
    return Response(status_code=204)
