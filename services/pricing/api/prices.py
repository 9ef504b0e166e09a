"""Resolving prices for a client: a cart, one explained line, ladder progress, the price list."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Annotated, Literal

import orjson
import polars as pl
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from services.pricing.api.price_schemas import (
    BuyerExplanation,
    BuyerResolvedLine,
    BuyerResolveResponse,
    Candidate,
    Explanation,
    LevelRead,
    Loser,
    NextTier,
    ProgressRead,
    ResolveRequest,
    ResolveResponse,
    Step,
)
from services.pricing.api.segments import SegmentAssignmentRead
from services.pricing.domain.ladder import Level, levels_of, progress
from services.pricing.price_book.engine import PriceEngine
from services.pricing.price_book.resolve import (
    client_prices,
    explain_line,
    list_prices,
    resolve_cart,
)
from services.pricing.store import policy as policy_store
from services.pricing.store import prices as store
from services.pricing.usecases.access import may_read_list, may_see, reaches_every_client
from shared import csvsafe
from shared.audience import client_rows, for_caller
from shared.auth import CLIENT_READERS, Role, allow
from shared.clock import today
from shared.db import SessionDep
from shared.fields import BusinessDate, Code, CurrencyCode, Quantity, Sku, Timestamp
from shared.problems import FieldError, NotFound, Unprocessable

router = APIRouter(tags=["prices"])

# Who may read a client's prices: its own people, staff, and services (orders pricing a cart).
READERS = CLIENT_READERS


def _engine(request: Request) -> PriceEngine:
    return request.app.state.price_engine


def _json_response(body: dict[str, object]) -> Response:
    # orjson on plain dicts: a 5,000-line cart is no 5,000 pydantic objects to validate.
    return Response(orjson.dumps(body), media_type="application/json")


@router.post(
    "/prices/resolve",
    summary="Prices of up to 5,000 cart lines for one client, with the rule behind each",
    response_model=ResolveResponse | BuyerResolveResponse,
    description=(
        "Order: contract price, assigned lists by priority, client-group list, base list; then "
        "client discount (brand or category), ladder discount and promotion on list prices "
        "(a contract price is net); never below the SKU's floor. One call, one pass over the "
        "price book, however many lines. Staff and services get each line's `floor_minor` "
        "(`ResolveResponse`); a client's people never do (`BuyerResolveResponse`)."
    ),
    responses={
        404: {"description": "A client_id the caller does not reach, or one pricing does not know"}
    },
)
async def resolve(
    body: ResolveRequest, request: Request, session: SessionDep, principal: allow(*READERS)
) -> Response:
    await may_see(session, principal, body.client_id)
    day = body.date or today()
    cart = await resolve_cart(
        _engine(request),
        body.client_id,
        [line.sku for line in body.lines],
        [line.quantity for line in body.lines],
        currency=body.currency,
        day=day,
    )
    return _json_response(
        {
            "client_id": str(body.client_id),
            "currency": cart.currency,
            "date": day.isoformat(),
            "price_version": cart.price_version,
            "lines": client_rows(principal, cart.lines(), BuyerResolvedLine),
        }
    )


@router.get(
    "/prices/explain",
    summary="Why this is the client's price: the whole decision path",
    response_model=Explanation | BuyerExplanation,
    description=(
        "Staff get the SKU's floor and the segment rules behind the client's lists and "
        "discounts (`Explanation`); a client's people get neither (`BuyerExplanation`)."
    ),
)
async def explain(
    request: Request,
    session: SessionDep,
    principal: allow(*READERS),
    client_id: uuid.UUID,
    sku: Annotated[Sku, Query()],
    quantity: Annotated[Quantity, Query()] = Decimal(1),
    currency: Annotated[CurrencyCode | None, Query()] = None,
    on: Annotated[BusinessDate | None, Query(alias="date")] = None,
    as_of: Annotated[
        Timestamp | None,
        Query(
            description="Answer with the stored prices of that moment (ISO 8601 with offset): "
            "price versions applied since are undone. Policy and assignments are today's."
        ),
    ] = None,
) -> Response:
    await may_see(session, principal, client_id)
    day = on or today()
    if as_of is not None and as_of.tzinfo is None:
        raise Unprocessable(
            "as_of needs a UTC offset.",
            errors=[FieldError(field="as_of", message="give an offset, e.g. Z")],
        )
    found = await explain_line(
        _engine(request), client_id, sku, quantity, currency=currency, day=day, as_of=as_of
    )
    line = found.line
    explanation = Explanation(
        client_id=client_id,
        sku=sku,
        quantity=quantity,
        currency=line.currency,
        date=day,
        unit_price_minor=line.unit_price_minor,
        list_price_minor=line.list_price_minor,
        base_price_minor=line.base_price_minor,
        rule=line.rule,
        next_tier=NextTier(min_qty=line.next_tier[0], unit_price_minor=line.next_tier[1])
        if line.next_tier
        else None,
        steps=[Step(rule=s.rule, detail=s.detail, price_minor=s.price_minor) for s in line.steps],
        losers=[
            Loser(origin=x.origin, price_minor=x.price_minor, reason=x.reason) for x in line.losers
        ],
        replaced_by_contract=[Candidate(**c) for c in found.shadowed],
        candidates=[Candidate(**c) for c in found.candidates],
        discounts=found.discounts,
        floor_minor=found.floor_minor,
        segment_assignments=[SegmentAssignmentRead.model_validate(a) for a in found.assignments],
    )
    return for_caller(principal, explanation, BuyerExplanation)


def _level(level: Level | None) -> LevelRead | None:
    return None if level is None else LevelRead.model_validate(level, from_attributes=True)


@router.get(
    "/clients/{client_id}/progress",
    summary="Turnover this period, the ladder level reached, and what the next level needs",
    response_model=ProgressRead,
)
async def client_progress(
    client_id: uuid.UUID, session: SessionDep, principal: allow(*READERS)
) -> ProgressRead:
    await may_see(session, principal, client_id)
    row = await store.client(session, client_id, today())
    if row is None:
        raise NotFound("The pricing service knows no such client.")
    if row.ladder is None:
        return ProgressRead(
            client_id=client_id,
            ladder=None,
            period=None,
            currency=None,
            turnover_minor=0,
            current_level=None,
            next_level=None,
            left_minor=None,
            bonus_minor=0,
        )
    reached = progress(row.turnover_minor, levels_of(row.ladder["levels"]))
    return ProgressRead(
        client_id=client_id,
        ladder=row.ladder["code"],
        period=row.ladder["period"],
        currency=row.ladder["currency"],
        turnover_minor=reached.turnover_minor,
        current_level=_level(reached.current),
        next_level=_level(reached.next),
        left_minor=reached.left_minor,
        bonus_minor=reached.bonus_minor,
    )


# Who may read a list's prices: staff, and services (catalog's marketplace feeds).
LIST_READERS = (Role.ADMIN, Role.SALES_MANAGER, Role.SYSTEM)


@router.get(
    "/price-lists/{code}/prices",
    summary="A price list's prices on a day, every SKU and tier, as CSV in one answer",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    description=(
        "Columns `sku,min_qty,price_minor,currency`, ordered by SKU and tier: the list's own "
        "entries valid on the day, or for a derived list its parent's with its markup. No "
        "client's discounts apply (that is `POST /prices/resolve`). A list outside its "
        "validity window has no prices. For catalog's marketplace feeds: one call per feed. "
        "A list derived from a matrix feed holds clients' own prices: a sales manager reads "
        "only those of its clients (another's is 404, as an unknown list)."
    ),
)
async def price_list_prices(
    code: Annotated[Code, Path(description="Price list code")],
    request: Request,
    session: SessionDep,
    principal: allow(*LIST_READERS),
    on: Annotated[
        BusinessDate | None, Query(alias="date", description="Default: today (UTC)")
    ] = None,
) -> Response:
    if not reaches_every_client(principal):  # services and admins: no query
        await may_read_list(session, principal, await policy_store.get_list(session, code))
    frame = await list_prices(_engine(request), code, on or today())
    return Response(frame.write_csv(), media_type="text/csv")


PRICE_LIST_COLUMNS = ["sku", "unit_price_minor", "list_price_minor", "currency", "rule"]


@router.get(
    "/clients/{client_id}/price-list",
    summary="The client's personal price list (CSV streamed, or XLSX) for every SKU it may buy",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            }
        }
    },
)
async def client_price_list(
    client_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: allow(*READERS),
    format: Literal["csv", "xlsx"] = "csv",
    currency: Annotated[CurrencyCode | None, Query()] = None,
    on: Annotated[BusinessDate | None, Query(alias="date")] = None,
) -> StreamingResponse:
    await may_see(session, principal, client_id)
    day = on or today()
    engine = _engine(request)
    skus = await store.sellable_skus(session)
    if await engine.client(client_id, day) is None:
        raise NotFound("The pricing service knows no such client.")

    def chunks() -> AsyncIterator[pl.DataFrame]:
        return client_prices(engine, client_id, skus, currency=currency, day=day)

    name = f"prices-{client_id}-{day.isoformat()}"
    if format == "xlsx":
        frames = [frame async for frame in chunks()]
        buffer = io.BytesIO()
        table = (
            pl.concat(frames)
            if frames
            else pl.DataFrame(schema=dict.fromkeys(PRICE_LIST_COLUMNS, pl.Utf8))
        )
        table.write_excel(buffer, worksheet="prices")
        return StreamingResponse(
            iter([buffer.getvalue()]),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )

    async def csv() -> AsyncIterator[bytes]:
        yield (",".join(PRICE_LIST_COLUMNS) + "\n").encode()
        async for frame in chunks():
            yield csvsafe.frame(frame).write_csv(include_header=False).encode()

    return StreamingResponse(
        csv(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
