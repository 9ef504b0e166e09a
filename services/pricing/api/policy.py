"""Commercial-policy administration: price lists, who gets which list, client discounts, floors,
promotions and turnover ladders.

Staff only: admins and sales managers read, admins write. Every write records one
`price.changed` event in its own transaction, naming the lists or clients it touched (or
`policy: true`), so price caches and subscribers refresh exactly what changed. An edit that
moves prices (a derived list's parent or markup) is governed like a price feed
(`usecases/list_edits.py`); a list's entries are edited in `list_entries.py`.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.api.access import client_to_change, may_read_list, may_see, readable_lists
from services.pricing.api.policy_schemas import (
    ClientDiscount,
    ClientDiscounts,
    ClientDiscountsRead,
    ClientLadderRead,
    ClientLadderWrite,
    ClientListsRead,
    FloorPriceRead,
    FloorPriceWrite,
    GroupCode,
    GroupListsRead,
    LadderCreate,
    LadderLevel,
    LadderRead,
    ListAssignment,
    PriceEditRead,
    PriceListCreate,
    PriceListEditRead,
    PriceListEntryRead,
    PriceListRead,
    PriceListUpdate,
    PromotionCreate,
    PromotionRead,
)
from services.pricing.price_book.engine import drop_once_committed
from services.pricing.store import policy as store
from services.pricing.store.models import FloorPrice, Ladder, PriceList, Promotion
from services.pricing.usecases import list_edits
from shared.auth import Role, allow
from shared.clock import utcnow
from shared.db import SessionDep
from shared.feeds.router import owner_of
from shared.fields import BusinessDate, Code, CurrencyCode, Sku, free_text
from shared.links import public_path
from shared.pagination import Page, PageParams, page_params, paginate
from shared.problems import Conflict, NotFound, Problem

router = APIRouter(tags=["commercial policy"])

READERS = (Role.ADMIN, Role.PRICING_MANAGER, Role.HEAD_OF_SALES, Role.SALES_MANAGER)
WRITERS = (Role.ADMIN,)
Pages = Annotated[PageParams, Depends(page_params)]
CompanyId = Annotated[uuid.UUID, Path(description="The client's company id (accounts)")]
ListCode = Annotated[Code, Path(description="Price list code")]
SkuPath = Annotated[Sku, Path(description="SKU code")]
CURRENCY = r"^[A-Z]{3}$"
CENT = Decimal("0.01")


def _problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _problem("Not authenticated"),
    403: _problem("Only admins and sales managers may read commercial policy"),
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _problem("Not authenticated"),
    403: _problem("Only admins may change commercial policy"),
    422: _problem("The body is invalid or names something unknown; `errors` says which field"),
}
NOT_FOUND = {404: _problem("Not found")}
CONFLICT = {409: _problem("Conflicts with the current state")}


def announce(request: Request, session: AsyncSession, cause: str, **change: Any) -> None:
    """Record the edit's price.changed, and drop the cached prices of this process once it
    commits (other processes hear the event; the relay publishes it after the commit)."""
    drop_once_committed(session, store.record_price_change(session, cause, **change))


def _percent(basis_points: int) -> Decimal:
    return (Decimal(basis_points) / 100).quantize(CENT)


def _basis_points(percent: Decimal) -> int:
    return int(percent * 100)


def _list_read(price_list: PriceList, parent_code: str | None) -> PriceListRead:
    return PriceListRead(
        code=price_list.code,
        name=price_list.name,
        currency=price_list.currency,
        priority=price_list.priority,
        is_base=price_list.is_base,
        is_matrix=price_list.is_matrix,
        parent_code=parent_code,
        markup_percent=_percent(price_list.markup_bp),
        valid_from=price_list.valid_from,
        valid_to=price_list.valid_to,
        updated_at=price_list.updated_at,
    )


def _unique(codes: list[str]) -> list[str]:
    return list(dict.fromkeys(codes))


# Price lists ---------------------------------------------------------------------------------


@router.post(
    "/price-lists",
    status_code=201,
    response_model=PriceListRead,
    summary="Create a price list",
    description=(
        "A list holds prices in one currency; `priority` orders a client's lists (higher "
        "wins), `is_base` makes it everyone's fallback. A list with `parent_code` has no "
        "entries of its own: its prices are the parent's with `markup_percent` applied, and it "
        "must have the parent's currency. Entries arrive through price feeds."
    ),
    responses={**WRITE_ERRORS, **CONFLICT},
)
async def create_price_list(
    body: PriceListCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> PriceListRead:
    parent = None
    if body.parent_code is not None:
        parent = await store.parent_for(session, body.parent_code, body.currency)
    price_list = await store.add_list(
        session,
        PriceList(
            code=body.code,
            name=body.name,
            currency=body.currency,
            priority=body.priority,
            is_base=body.is_base,
            is_matrix=False,
            parent_id=parent.id if parent else None,
            markup_bp=_basis_points(body.markup_percent),
            valid_from=body.valid_from,
            valid_to=body.valid_to,
            updated_at=utcnow(),
        ),
    )
    announce(request, session, "price_list.created", list_codes=[price_list.code])
    response.headers["Location"] = public_path(request, "get_price_list", code=price_list.code)
    return _list_read(price_list, parent.code if parent else None)


@router.get(
    "/price-lists",
    response_model=Page[PriceListRead],
    summary="Price lists, by code",
    description="Filter by currency, base lists, or lists derived from matrix feeds.",
    responses=READ_ERRORS,
)
async def list_price_lists(
    session: SessionDep,
    principal: allow(*READERS),
    params: Pages,
    currency: Annotated[CurrencyCode | None, Query()] = None,
    is_base: bool | None = None,
    is_matrix: bool | None = None,
) -> Page[PriceListRead]:
    stmt = store.price_lists_query(currency=currency, is_base=is_base, is_matrix=is_matrix)
    rows, cursor = await paginate(
        session, readable_lists(stmt, principal), [PriceList.code], params
    )
    parents = await store.list_codes_of(session, (r.parent_id for r in rows))
    return Page(
        items=[_list_read(r, parents.get(r.parent_id) if r.parent_id else None) for r in rows],
        next_cursor=cursor,
    )


@router.get(
    "/price-lists/{code}",
    response_model=PriceListRead,
    summary="One price list",
    responses={**READ_ERRORS, **NOT_FOUND},
)
async def get_price_list(
    code: ListCode, session: SessionDep, principal: allow(*READERS)
) -> PriceListRead:
    price_list = await store.get_list(session, code)
    await may_read_list(session, principal, price_list)
    parents = await store.list_codes_of(session, [price_list.parent_id])
    return _list_read(price_list, parents.get(price_list.parent_id or 0))


@router.patch(
    "/price-lists/{code}",
    response_model=PriceListEditRead,
    summary="Change a price list",
    description=(
        "Only the fields sent change. `parent_code: null` makes a derived list stand on its "
        "own (its markup goes to 0). A list with entries of its own cannot become derived, a "
        "list other lists derive from keeps its currency, and no list may derive from itself "
        "through any chain. Lists derived from matrix feeds are read-only (409).\n\n"
        "A change of `parent_code` or `markup_percent` moves the prices of the list and of "
        "the lists deriving from it, so it is governed like a price feed: `dry_run=true` "
        "answers its diff (`price_change`) and changes nothing; a guardrail breach is a 422 "
        "naming the SKUs, which `override_reason` overrides; a list whose guardrail requires "
        "approval answers 202 with a staged price version, which a second pricing manager "
        "approves (`POST /price-versions/{id}/approve`); applied, it is a price version that "
        "rollback undoes."
    ),
    responses={
        **WRITE_ERRORS,
        **NOT_FOUND,
        **CONFLICT,
        202: {"model": PriceListEditRead, "description": "Staged: waits for approval"},
    },
)
async def update_price_list(
    code: ListCode,
    body: PriceListUpdate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: allow(*WRITERS),
    dry_run: Annotated[bool, Query(description="Answer the diff and change nothing")] = False,
    override_reason: Annotated[
        free_text(1000, min_length=3) | None,
        Query(
            description="Apply past the guardrails; the reason is kept on the price version",
        ),
    ] = None,
) -> PriceListEditRead:
    price_list = store.editable(await store.get_list(session, code, lock=True))
    changes = body.model_dump(exclude_unset=True)
    for name in ("name", "currency", "priority", "is_base", "markup_percent"):
        if name in changes and changes[name] is None:
            raise store.invalid(name, "may not be null")
    currency = changes.get("currency", price_list.currency)
    derived = await store.derived_lists(session, price_list.id)
    if currency != price_list.currency and derived:
        raise Conflict(
            f"Lists {', '.join(c for c, _ in derived)} derive from this one in "
            f"{price_list.currency}; re-parent them before changing its currency."
        )

    current_parent = (await store.list_codes_of(session, [price_list.parent_id])).get(
        price_list.parent_id or 0
    )
    parent_code = changes.pop("parent_code", current_parent)
    parent_id = price_list.parent_id
    if parent_code is None:
        parent_id = None
    elif parent_code != current_parent or currency != price_list.currency:
        parent = await store.parent_for(session, parent_code, currency)
        if await store.would_cycle(session, price_list.id, parent.id):
            raise store.invalid("parent_code", f"{parent_code!r} derives from {code!r}: a cycle")
        if price_list.parent_id is None and await store.has_entries(session, price_list.id):
            raise Conflict(
                "This list has entries of its own; a derived list takes its prices from its "
                "parent. Delete its entries (a price feed) first."
            )
        parent_id = parent.id

    markup = changes.pop("markup_percent", None)
    markup_bp = price_list.markup_bp
    if parent_id is None:
        if markup:
            raise store.invalid("markup_percent", "a markup needs a parent_code")
        markup_bp = 0
    elif markup is not None:
        markup_bp = _basis_points(markup)
    valid_from = changes.get("valid_from", price_list.valid_from)
    valid_to = changes.get("valid_to", price_list.valid_to)
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        raise store.invalid("valid_to", "must be after valid_from")

    by = owner_of(principal)
    outcome = await list_edits.edit_settings(
        session,
        {price_list.id: (parent_id or 0, markup_bp)},
        code=code,
        field_name="markup_percent" if markup is not None else "parent_code",
        by=by,
        dry_run=dry_run,
        override=None
        if override_reason is None
        else {"by": by, "reason": override_reason, "at": str(utcnow())},
    )
    if dry_run:
        diff = outcome.diff if outcome else list_edits.no_change()
        return _edit_read(price_list, current_parent, PriceEditRead(state="dry_run", diff=diff))
    if outcome is not None and outcome.state == "staged":
        if changes:
            raise store.invalid(
                next(iter(changes)),
                "send it on its own: this list's price change waits for approval",
            )
        response.status_code = 202
        return _edit_read(price_list, current_parent, _price_edit(outcome))

    for name, value in changes.items():
        setattr(price_list, name, value)
    price_list.parent_id = parent_id
    price_list.markup_bp = markup_bp
    price_list.updated_at = utcnow()
    await session.flush()
    announce(
        request,
        session,
        "price_list.updated",
        list_codes=sorted(
            {price_list.code, *(c for c, _ in derived), *(outcome.list_codes if outcome else [])}
        ),
    )
    return _edit_read(price_list, parent_code, _price_edit(outcome) if outcome else None)


def _price_edit(outcome: list_edits.Outcome) -> PriceEditRead:
    return PriceEditRead(
        state=outcome.state,  # type: ignore[arg-type]
        version=outcome.version.id if outcome.version else None,
        diff=outcome.diff,
        awaiting_approval=outcome.awaiting_approval,
    )


def _edit_read(
    price_list: PriceList, parent_code: str | None, change: PriceEditRead | None
) -> PriceListEditRead:
    return PriceListEditRead(
        **_list_read(price_list, parent_code).model_dump(), price_change=change
    )


@router.delete(
    "/price-lists/{code}",
    status_code=204,
    summary="Delete a price list and its assignments",
    description=(
        "Refused (409) while other lists derive from it, while it has entries (delete them "
        "through a governed edit first), and for matrix lists."
    ),
    responses={**WRITE_ERRORS, **NOT_FOUND, **CONFLICT},
)
async def delete_price_list(
    code: ListCode, request: Request, session: SessionDep, principal: allow(*WRITERS)
) -> Response:
    price_list = store.editable(await store.get_list(session, code, lock=True))
    derived = await store.derived_lists(session, price_list.id)
    if derived:
        raise Conflict(
            f"Lists {', '.join(c for c, _ in derived)} derive from this one; "
            "delete or re-parent them first."
        )
    if await store.has_entries(session, price_list.id):
        # Its prices go through a governed, versioned edit, never silently with the list.
        raise Conflict(
            "This list still has prices: delete its entries first (POST "
            f"/price-lists/{code}/entries with action delete, or a price feed)."
        )
    await store.remove_list(session, price_list)
    announce(request, session, "price_list.deleted", list_codes=[price_list.code])
    return Response(status_code=204)


@router.get(
    "/price-lists/{code}/entries",
    response_model=Page[PriceListEntryRead],
    summary="A list's own entries (SKU, tier, validity, price)",
    description=(
        "In SKU, tier and start order. A derived list has none of its own: its prices are "
        "its parent's with its markup (see `parent_code`, `markup_percent`)."
    ),
    responses={**READ_ERRORS, **NOT_FOUND, 422: _problem("Unknown SKU or bad cursor")},
)
async def list_entries(
    code: ListCode,
    session: SessionDep,
    principal: allow(*READERS),
    params: Pages,
    sku: Annotated[Sku | None, Query(description="Only this SKU")] = None,
) -> Page[PriceListEntryRead]:
    price_list = await store.get_list(session, code)
    await may_read_list(session, principal, price_list)
    sku_id = await store.sku_id(session, sku, field="sku", body=True) if sku else None
    rows, cursor = await store.entries_page(session, price_list.id, sku_id, params)
    return Page(
        items=[
            PriceListEntryRead(
                sku=r.sku,
                min_qty=r.min_qty,
                price_minor=r.price_minor,
                valid_from=r.valid_from,
                valid_to=r.valid_to,
            )
            for r in rows
        ],
        next_cursor=cursor,
    )


# Assignments ---------------------------------------------------------------------------------


@router.put(
    "/clients/{company_id}/price-lists",
    response_model=ClientListsRead,
    summary="Replace the lists assigned to a client",
    description=(
        "The whole set: lists left out are unassigned, `[]` removes all. A client's lists "
        "come before its group's and the base lists, higher priority first. Matrix lists are "
        "assigned by matrix feeds, not here."
    ),
    responses={**WRITE_ERRORS, **NOT_FOUND},
)
async def put_client_lists(
    company_id: CompanyId,
    body: ListAssignment,
    request: Request,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> ClientListsRead:
    client = await client_to_change(request, session, principal, company_id)
    codes = _unique(body.list_codes)
    list_ids = await store.assignable_lists(session, codes)
    await store.replace_client_lists(session, client.id, list_ids)
    announce(
        request,
        session,
        "client.price_lists.replaced",
        client_ids=[company_id],
        rows=len(list_ids),
    )
    return ClientListsRead(
        company_id=company_id, list_codes=await store.client_list_codes(session, client.id)
    )


@router.get(
    "/clients/{company_id}/price-lists",
    response_model=ClientListsRead,
    summary="The lists assigned to a client",
    responses={**READ_ERRORS, **NOT_FOUND},
)
async def get_client_lists(
    company_id: CompanyId, session: SessionDep, principal: allow(*READERS)
) -> ClientListsRead:
    await may_see(session, principal, company_id)
    client = await store.get_client(session, company_id)
    return ClientListsRead(
        company_id=company_id, list_codes=await store.client_list_codes(session, client.id)
    )


@router.put(
    "/client-groups/{group_code}/price-lists",
    response_model=GroupListsRead,
    summary="Replace the lists assigned to a client group",
    description=(
        "The whole set for every client whose group (from accounts) is `group_code`; `[]` "
        "removes all. The event names the lists that gained or lost the group."
    ),
    responses=WRITE_ERRORS,
)
async def put_group_lists(
    group_code: Annotated[GroupCode, Path(description="Client group code (accounts)")],
    body: ListAssignment,
    request: Request,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> GroupListsRead:
    await store.lock_group(session, group_code)
    before = await store.group_list_codes(session, group_code)
    codes = _unique(body.list_codes)
    list_ids = await store.assignable_lists(session, codes)
    await store.replace_group_lists(session, group_code, list_ids)
    announce(
        request,
        session,
        "client_group.price_lists.replaced",
        list_codes=set(before) ^ set(codes),
        rows=len(list_ids),
    )
    return GroupListsRead(
        group_code=group_code, list_codes=await store.group_list_codes(session, group_code)
    )


@router.get(
    "/client-groups/{group_code}/price-lists",
    response_model=GroupListsRead,
    summary="The lists assigned to a client group",
    responses=READ_ERRORS,
)
async def get_group_lists(
    group_code: Annotated[GroupCode, Path(description="Client group code (accounts)")],
    session: SessionDep,
    principal: allow(*READERS),
) -> GroupListsRead:
    return GroupListsRead(
        group_code=group_code, list_codes=await store.group_list_codes(session, group_code)
    )


# Client discounts ----------------------------------------------------------------------------


def _discounts_read(company_id: uuid.UUID, rows: list[Any]) -> ClientDiscountsRead:
    return ClientDiscountsRead(
        company_id=company_id,
        discounts=[ClientDiscount(scope=r.scope, value=r.value, percent=r.percent) for r in rows],
    )


@router.put(
    "/clients/{company_id}/discounts",
    response_model=ClientDiscountsRead,
    summary="Replace a client's discounts by brand or category",
    description=(
        "The whole set; `[]` removes all. On list prices (never on contract prices) the "
        "better of the client's brand and category discount applies."
    ),
    responses={**WRITE_ERRORS, **NOT_FOUND},
)
async def put_client_discounts(
    company_id: CompanyId,
    body: ClientDiscounts,
    request: Request,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> ClientDiscountsRead:
    seen: set[tuple[str, str]] = set()
    for i, discount in enumerate(body.discounts):
        key = (discount.scope, discount.value)
        if key in seen:
            raise store.invalid(
                f"discounts[{i}].value",
                f"a second {discount.scope} discount on {discount.value!r}",
                i + 1,
            )
        seen.add(key)
    client = await client_to_change(request, session, principal, company_id)
    rows = await store.replace_discounts(
        session, client.id, [d.model_dump() for d in body.discounts]
    )
    announce(request, session, "client.discounts.replaced", client_ids=[company_id], rows=rows)
    return _discounts_read(company_id, await store.client_discounts(session, client.id))


@router.get(
    "/clients/{company_id}/discounts",
    response_model=ClientDiscountsRead,
    summary="A client's discounts by brand or category",
    responses={**READ_ERRORS, **NOT_FOUND},
)
async def get_client_discounts(
    company_id: CompanyId, session: SessionDep, principal: allow(*READERS)
) -> ClientDiscountsRead:
    await may_see(session, principal, company_id)
    client = await store.get_client(session, company_id)
    return _discounts_read(company_id, await store.client_discounts(session, client.id))


# Floors --------------------------------------------------------------------------------------


@router.put(
    "/floor-prices/{sku}",
    response_model=FloorPriceRead,
    summary="Set a SKU's floor price in a currency",
    description="No resolved price of the SKU in that currency ever goes below its floor.",
    responses={**WRITE_ERRORS, **NOT_FOUND},
)
async def put_floor(
    sku: SkuPath,
    body: FloorPriceWrite,
    request: Request,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> FloorPriceRead:
    sku_id = await store.sku_id(session, sku)
    await store.set_floor(session, sku_id, body.currency, body.price_minor)
    announce(request, session, "floor_price.set", policy=True, skus=[sku], rows=1)
    return FloorPriceRead(sku=sku, currency=body.currency, price_minor=body.price_minor)


@router.delete(
    "/floor-prices/{sku}",
    status_code=204,
    summary="Remove a SKU's floor price in a currency",
    responses={**WRITE_ERRORS, **NOT_FOUND},
)
async def delete_floor(
    sku: SkuPath,
    currency: Annotated[CurrencyCode, Query(description="The floor's currency")],
    request: Request,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> Response:
    sku_id = await store.sku_id(session, sku)
    if not await store.delete_floor(session, sku_id, currency):
        raise NotFound(f"SKU {sku!r} has no floor in {currency}.")
    announce(request, session, "floor_price.deleted", policy=True, skus=[sku], rows=1)
    return Response(status_code=204)


@router.get(
    "/floor-prices",
    response_model=Page[FloorPriceRead],
    summary="Floor prices",
    responses={**READ_ERRORS, 422: _problem("Unknown SKU or bad cursor")},
)
async def list_floors(
    session: SessionDep,
    principal: allow(*READERS),
    params: Pages,
    sku: Annotated[Sku | None, Query(description="Only this SKU")] = None,
    currency: Annotated[CurrencyCode | None, Query()] = None,
) -> Page[FloorPriceRead]:
    sku_id = await store.sku_id(session, sku, field="sku", body=True) if sku else None
    stmt = store.floors_query(sku=sku_id, currency=currency)
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
    responses={**WRITE_ERRORS, **CONFLICT},
)
async def create_promotion(
    body: PromotionCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> PromotionRead:
    if body.scope == "sku":
        await store.sku_id(session, body.value, field="value", body=True)
    promotion = await store.add_promotion(
        session,
        Promotion(**body.model_dump(exclude={"percent"}), percent=body.percent.quantize(CENT)),
    )
    announce(
        request,
        session,
        "promotion.created",
        policy=True,
        skus=[body.value] if body.scope == "sku" else [],
        rows=1,
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
    stmt = store.promotions_query(scope=scope, active_on=active_on)
    rows, cursor = await paginate(session, stmt, [Promotion.code], params)
    return Page(items=[PromotionRead.model_validate(r) for r in rows], next_cursor=cursor)


@router.get(
    "/promotions/{code}",
    response_model=PromotionRead,
    summary="One promotion",
    responses={**READ_ERRORS, **NOT_FOUND},
)
async def get_promotion(
    code: Annotated[Code, Path()], session: SessionDep, principal: allow(*READERS)
) -> PromotionRead:
    return PromotionRead.model_validate(await store.get_promotion(session, code))


@router.delete(
    "/promotions/{code}",
    status_code=204,
    summary="End and remove a promotion",
    responses={**WRITE_ERRORS, **NOT_FOUND},
)
async def delete_promotion(
    code: Annotated[Code, Path()],
    request: Request,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> Response:
    promotion = await store.get_promotion(session, code)
    await store.remove_promotion(session, promotion)
    announce(
        request,
        session,
        "promotion.deleted",
        policy=True,
        skus=[promotion.value] if promotion.scope == "sku" else [],
        rows=1,
    )
    return Response(status_code=204)


# Ladders -------------------------------------------------------------------------------------


def _ladder_read(ladder: Ladder) -> LadderRead:
    return LadderRead(
        code=ladder.code,
        name=ladder.name,
        period=ladder.period,
        currency=ladder.currency,
        levels=[LadderLevel.model_validate(level) for level in ladder.levels],
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
    responses={**WRITE_ERRORS, **CONFLICT},
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
    ladder = await store.add_ladder(
        session,
        Ladder(
            code=body.code,
            name=body.name,
            period=body.period,
            currency=body.currency,
            levels=levels,
        ),
    )
    announce(request, session, "ladder.created", policy=True, rows=1)
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
    rows, cursor = await paginate(session, store.ladders_query(), [Ladder.code], params)
    return Page(items=[_ladder_read(r) for r in rows], next_cursor=cursor)


@router.get(
    "/ladders/{code}",
    response_model=LadderRead,
    summary="One turnover ladder",
    responses={**READ_ERRORS, **NOT_FOUND},
)
async def get_ladder(
    code: Annotated[Code, Path()], session: SessionDep, principal: allow(*READERS)
) -> LadderRead:
    return _ladder_read(await store.get_ladder(session, code))


@router.put(
    "/clients/{company_id}/ladder",
    response_model=ClientLadderRead,
    summary="Put a client on a turnover ladder",
    description="A client is on one ladder at most; this replaces the one it was on.",
    responses={**WRITE_ERRORS, **NOT_FOUND},
)
async def put_client_ladder(
    company_id: CompanyId,
    body: ClientLadderWrite,
    request: Request,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> ClientLadderRead:
    client = await client_to_change(request, session, principal, company_id)
    ladder = await store.ladder_for_assignment(session, body.ladder_code)
    await store.assign_ladder(session, client.id, ladder.id)
    announce(request, session, "client.ladder.assigned", client_ids=[company_id], rows=1)
    return ClientLadderRead(company_id=company_id, ladder_code=ladder.code)


@router.get(
    "/clients/{company_id}/ladder",
    response_model=ClientLadderRead,
    summary="The ladder a client is on",
    responses={**READ_ERRORS, 404: _problem("No such client, or it is on no ladder")},
)
async def get_client_ladder(
    company_id: CompanyId, session: SessionDep, principal: allow(*READERS)
) -> ClientLadderRead:
    await may_see(session, principal, company_id)
    client = await store.get_client(session, company_id)
    code = await store.client_ladder_code(session, client.id)
    if code is None:
        raise NotFound("The client is on no ladder.")
    return ClientLadderRead(company_id=company_id, ladder_code=code)


@router.delete(
    "/clients/{company_id}/ladder",
    status_code=204,
    summary="Take a client off its ladder",
    responses={**WRITE_ERRORS, 404: _problem("No such client, or it is on no ladder")},
)
async def delete_client_ladder(
    company_id: CompanyId, request: Request, session: SessionDep, principal: allow(*WRITERS)
) -> Response:
    await may_see(session, principal, company_id)
    client = await store.get_client(session, company_id, lock=True)
    if not await store.unassign_ladder(session, client.id):
        raise NotFound("The client is on no ladder.")
    announce(request, session, "client.ladder.removed", client_ids=[company_id], rows=1)
    return Response(status_code=204)
