"""Commercial-policy administration: price lists, who gets which list, client discounts, floors,
promotions and turnover ladders.

Staff only: admins and sales managers read, admins write. Every write records one
`price.changed` event in its own transaction, naming the lists or clients it touched (or
`policy: true`), so price caches and subscribers refresh exactly what changed. An edit that
moves prices (a derived list's parent or markup) is governed like a price feed
(`usecases/list_edits.py`); a list's entries are edited in `list_entries.py`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.pricing.api.policy_common import (
    CONFLICT,
    CREATE_ERRORS,
    READ_ERRORS,
    READ_ONE_ERRORS,
    READERS,
    WRITE_ONE_ERRORS,
    WRITERS,
    ListCode,
    Pages,
    problem,
)
from services.pricing.api.policy_schemas import (
    PriceEditRead,
    PriceListCreate,
    PriceListEditRead,
    PriceListEntryRead,
    PriceListRead,
    PriceListUpdate,
)
from services.pricing.domain.percents import from_basis_points
from services.pricing.store import policy as store
from services.pricing.store.models import PriceList
from services.pricing.usecases import list_edits, price_lists
from services.pricing.usecases.access import (
    may_read_list,
    readable_lists,
)
from shared.auth import allow
from shared.db import SessionDep
from shared.feeds.router import owner_of
from shared.fields import CurrencyCode, Sku, multiline
from shared.links import public_path
from shared.pagination import Page, paginate
from shared.reads import read_of

router = APIRouter(tags=["commercial policy"])


def _list_read(price_list: PriceList, parent_code: str | None) -> PriceListRead:
    return read_of(
        PriceListRead,
        price_list,
        parent_code=parent_code,
        markup_percent=from_basis_points(price_list.markup_bp),
    )


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
    responses=CREATE_ERRORS,
)
async def create_price_list(
    body: PriceListCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: allow(*WRITERS),
) -> PriceListRead:
    price_list, parent = await price_lists.create_list(
        session,
        body.model_dump(
            include={"code", "name", "currency", "priority", "is_base", "valid_from", "valid_to"}
        ),
        body.parent_code,
        body.markup_percent,
    )
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
    responses=READ_ONE_ERRORS,
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
        **WRITE_ONE_ERRORS,
        **CONFLICT,
        202: {"model": PriceListEditRead, "description": "Staged: waits for approval"},
    },
)
async def update_price_list(
    code: ListCode,
    body: PriceListUpdate,
    response: Response,
    session: SessionDep,
    principal: allow(*WRITERS),
    dry_run: Annotated[bool, Query(description="Answer the diff and change nothing")] = False,
    override_reason: Annotated[
        multiline(1000, min_length=3) | None,
        Query(
            description="Apply past the guardrails; the reason is kept on the price version",
        ),
    ] = None,
) -> PriceListEditRead:
    edited = await price_lists.edit_list(
        session,
        code,
        body.model_dump(exclude_unset=True),
        by=owner_of(principal),
        dry_run=dry_run,
        override_reason=override_reason,
    )
    outcome = edited.outcome
    if outcome is not None and outcome.state == "staged":
        response.status_code = 202
    return _edit_read(
        edited.price_list, edited.parent_code, _price_edit(outcome) if outcome else None
    )


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
    responses={**WRITE_ONE_ERRORS, **CONFLICT},
)
async def delete_price_list(
    code: ListCode, session: SessionDep, principal: allow(*WRITERS)
) -> Response:
    await price_lists.delete_list(session, code)
    return Response(status_code=204)


@router.get(
    "/price-lists/{code}/entries",
    response_model=Page[PriceListEntryRead],
    summary="A list's own entries (SKU, tier, validity, price)",
    description=(
        "In SKU, tier and start order. A derived list has none of its own: its prices are "
        "its parent's with its markup (see `parent_code`, `markup_percent`)."
    ),
    responses={**READ_ONE_ERRORS, 422: problem("Unknown SKU or bad cursor")},
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
        items=[PriceListEntryRead.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=cursor,
    )
