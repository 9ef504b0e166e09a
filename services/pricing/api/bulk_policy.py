"""Bulk commercial policy: up to 10,000 price lists, group or client list assignments, or client
discounts in one request, for an ERP setting up policy at scale.

Each item is checked by the single endpoint's rules (`policy.py`); `mode` says what a bad item
does, as on the feeds: `all_or_nothing` answers 422 naming every bad row (the first item is
row 1) and changes nothing, `skip_bad_rows` applies the good ones in one transaction. Every
row's outcome is answered: created, updated, unchanged (a batch sent again changes nothing) or
rejected. A request that changed something records one `price.changed` naming every list or
client it touched, as one single edit does; one that changed nothing records none.

A list edit that would move prices (a new parent or markup on an existing list) is governed
(guardrails, approval, versions) and so is refused here: send it with PATCH /price-lists/{code}.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.api.bulk_schemas import (
    BulkResult,
    ClientAssignmentsBulk,
    ClientDiscountsBulk,
    GroupAssignmentsBulk,
    Outcome,
    PriceListsBulk,
    RowError,
    RowResult,
)
from services.pricing.api.policy_common import (
    CENT,
    CONFLICT,
    WRITE_ERRORS,
    _basis_points,
    _problem,
)
from services.pricing.store import bulk_policy as store
from services.pricing.store.projections import ensure_client
from services.pricing.usecases.changes import announce
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.feeds.models import FeedMode
from shared.problems import FieldError, Unprocessable
from shared.scope import accounts_company

router = APIRouter(prefix="/bulk", tags=["commercial policy"])

Error = tuple[str, str]  # (the item's field, why)

# The single endpoints' writers, and ERP's integration key (the gateway lets it reach /bulk/).
WRITERS = (Role.ADMIN, Role.INTEGRATOR)
Mode = Annotated[
    FeedMode,
    Query(
        description="all_or_nothing: one bad row rejects the batch; skip_bad_rows: apply the rest"
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(max_length=200, description="The same key and body again replays the first answer"),
]
RESPONSES: dict[int | str, dict[str, Any]] = {
    **WRITE_ERRORS,
    403: _problem("Only admins and integrators' keys may change commercial policy in bulk"),
    422: _problem(
        "The body is invalid (at most 10,000 items), or all_or_nothing and some rows are bad: "
        "`errors` names each bad row and field, and nothing changed"
    ),
}


class Rows:
    """The per-row results of a batch, rows numbered from 1; `key_field` names an item's key."""

    def __init__(self, key_field: str) -> None:
        self.key_field = key_field
        self.results: list[RowResult] = []
        self.first_row: dict[str, int] = {}

    def add(self, key: str, outcome: Outcome, errors: list[tuple[str, str]] | None = None) -> bool:
        """Record the next row (rejected when it has errors, or repeats an earlier row's key);
        True when it stands."""
        row = len(self.results) + 1
        errors = list(errors or [])
        if key in self.first_row:
            errors.append((self.key_field, f"repeats row {self.first_row[key]}"))
        self.first_row.setdefault(key, row)
        bad = [RowError(field=f, message=m) for f, m in errors]
        self.results.append(
            RowResult(row=row, key=key, outcome=Outcome.REJECTED if bad else outcome, errors=bad)
        )
        return not bad

    def repeated(self, key: str) -> bool:
        return key in self.first_row

    def answer(self, mode: FeedMode) -> BulkResult:
        """The batch's answer; in all_or_nothing mode a bad row refuses it all (the endpoints
        ask this before they store anything)."""
        rejected = [r for r in self.results if r.outcome == Outcome.REJECTED]
        if rejected and mode == FeedMode.ALL_OR_NOTHING:
            raise Unprocessable(
                f"{len(rejected)} of {len(self.results)} rows are bad; nothing changed.",
                errors=[
                    FieldError(field=e.field, message=e.message, row=r.row)
                    for r in rejected
                    for e in r.errors
                ],
            )
        count = {o: sum(r.outcome == o for r in self.results) for o in Outcome}
        return BulkResult(
            mode=mode,
            created=count[Outcome.CREATED],
            updated=count[Outcome.UPDATED],
            unchanged=count[Outcome.UNCHANGED],
            rejected=count[Outcome.REJECTED],
            rows=self.results,
        )


# Price lists ---------------------------------------------------------------------------------

# What a list item sets that moves no price: stored without governance, as PATCH does.
PLAIN_FIELDS = ("name", "currency", "priority", "is_base", "valid_from", "valid_to")
GOVERNED = "moves prices: change it with PATCH /price-lists/{code}, which is governed"


def _parent_errors(item: dict[str, Any], known: dict[str, tuple[str, bool]]) -> list[Error]:
    code, parent = item["code"], item["parent_code"]
    if parent is None:
        return []
    if parent == code:
        return [("parent_code", "a list cannot derive from itself")]
    if parent not in known:
        return [("parent_code", f"no price list {parent!r} (stored or in an earlier row)")]
    currency, is_matrix = known[parent]
    if is_matrix:
        return [("parent_code", f"{parent!r} is a matrix list; derive from an editable list")]
    if currency != item["currency"]:
        return [("parent_code", f"{parent!r} is in {currency}; a derived list has its currency")]
    return []


def _list_errors(
    item: dict[str, Any], stored: Any, known: dict[str, tuple[str, bool]], parents: set[str]
) -> list[Error]:
    """The single endpoints' rules for one list item. `known`: code -> (currency, is_matrix)
    of the stored lists and of the rows accepted before; `parents`: the codes lists derive
    from in this batch."""
    if stored is not None and stored.is_matrix:
        return [("code", "derived from a matrix feed; it changes only through price feeds")]
    errors = _parent_errors(item, known)
    if stored is None:
        return errors
    if item["parent_code"] != stored.parent_code:
        errors.append(("parent_code", GOVERNED))
    elif item["markup_bp"] != stored.markup_bp:
        errors.append(("markup_percent", GOVERNED))
    if item["currency"] != stored.currency and (stored.has_children or item["code"] in parents):
        errors.append(("currency", "lists derive from this one; re-parent them first"))
    return errors


@router.post(
    "/price-lists",
    response_model=BulkResult,
    summary="Create or update many price lists",
    description=(
        "Each item is a whole list by `code`, as `POST /price-lists` takes it: a new code is "
        "created, a known one updated (name, currency, priority, base, validity), the same "
        "again is unchanged. A parent may be a list of an earlier row. A new parent or markup "
        "on an existing list moves prices and is governed: send it with "
        "`PATCH /price-lists/{code}`."
    ),
    responses={**RESPONSES, **CONFLICT},
)
async def bulk_price_lists(
    body: PriceListsBulk,
    request: Request,
    session: SessionDep,
    principal: allow(*WRITERS),
    mode: Mode = FeedMode.ALL_OR_NOTHING,
    idempotency_key: IdempotencyKey = None,
) -> BulkResult:
    items = [
        {**i.model_dump(exclude={"markup_percent"}), "markup_bp": _basis_points(i.markup_percent)}
        for i in body.items
    ]
    parents = {i["parent_code"] for i in items if i["parent_code"]}
    stored = await store.lists_by_code(session, {i["code"] for i in items} | parents, lock=True)
    known = {code: (row.currency, row.is_matrix) for code, row in stored.items()}
    rows = Rows("code")
    written: dict[Outcome, list[dict[str, Any]]] = {Outcome.CREATED: [], Outcome.UPDATED: []}
    for item in items:
        code, current = item["code"], stored.get(item["code"])
        errors = [] if rows.repeated(code) else _list_errors(item, current, known, parents)
        same = current is not None and all(getattr(current, f) == item[f] for f in PLAIN_FIELDS)
        outcome = (
            Outcome.CREATED if current is None else Outcome.UNCHANGED if same else Outcome.UPDATED
        )
        if rows.add(code, outcome, errors):
            known[code] = (item["currency"], False)
            written.get(outcome, []).append(item)
    answer = rows.answer(mode)
    created, updated = written[Outcome.CREATED], written[Outcome.UPDATED]
    await store.insert_lists(session, created)
    await store.update_lists(session, updated)
    if created or updated:
        derived = await store.derived_codes(session, [stored[i["code"]].id for i in updated])
        touched = [i["code"] for i in created + updated]
        announce(session, "price_lists.bulk", list_codes=[*touched, *derived], rows=len(touched))
    return answer


# Assignments ---------------------------------------------------------------------------------


def _assignment(
    codes: list[str], lists: dict[str, Any], before: set[int] | None
) -> tuple[Outcome, list[int], list[Error]]:
    """The single endpoints' rules for one whole set of lists: its outcome, ids and errors."""
    errors = []
    for i, code in enumerate(codes):
        found = lists.get(code)
        if found is None:
            errors.append((f"list_codes[{i}]", f"no price list {code!r}"))
        elif found.is_matrix:
            errors.append((f"list_codes[{i}]", f"{code!r} is a matrix list; feeds assign those"))
    ids = list(dict.fromkeys(lists[c].id for c in codes if c in lists))
    if set(ids) == (before or set()):
        return Outcome.UNCHANGED, ids, errors
    return (Outcome.UPDATED if before else Outcome.CREATED), ids, errors


async def _assign(
    session: AsyncSession,
    items: list[tuple[Any, list[str]]],
    before: dict[Any, set[int]],
    rows: Rows,
    refused: dict[Any, list[Error]] | None = None,
) -> tuple[dict[Any, list[int]], set[str]]:
    """Check each (owner, list codes) item against the lists (one query): the owners' new
    sets of list ids, and the codes of the lists that gained or lost an owner."""
    named = {c for _, codes in items for c in codes}
    stored_ids = {i for ids in before.values() for i in ids}
    lists = await store.lists_by_code(session, named)
    codes_of = {row.id: code for code, row in lists.items()}
    codes_of |= await store.list_codes(session, stored_ids - set(codes_of))
    changes: dict[Any, list[int]] = {}
    touched: set[str] = set()
    for owner, codes in items:
        outcome, ids, errors = _assignment(codes, lists, before.get(owner))
        errors = (refused or {}).get(owner, []) + errors
        if rows.add(str(owner), outcome, errors) and outcome != Outcome.UNCHANGED:
            changes[owner] = ids
            touched |= {codes_of[i] for i in set(ids) ^ before.get(owner, set())}
    return changes, touched


@router.post(
    "/client-groups/price-lists",
    response_model=BulkResult,
    summary="Replace the lists assigned to many client groups",
    description=(
        "Each item is a group's whole set, as `PUT /client-groups/{group_code}/price-lists` "
        "takes it (`[]` removes all): `created` when the group had none, `unchanged` when it "
        "is the set the group has."
    ),
    responses=RESPONSES,
)
async def bulk_group_lists(
    body: GroupAssignmentsBulk,
    request: Request,
    session: SessionDep,
    principal: allow(*WRITERS),
    mode: Mode = FeedMode.ALL_OR_NOTHING,
    idempotency_key: IdempotencyKey = None,
) -> BulkResult:
    groups = {i.group_code for i in body.items}
    await store.lock_groups(session, groups)
    before = await store.group_lists(session, groups)
    rows = Rows("group_code")
    items = [(i.group_code, i.list_codes) for i in body.items]
    changes, touched = await _assign(session, items, before, rows)
    answer = rows.answer(mode)
    await store.replace_group_lists(session, changes)
    if changes:
        written = sum(len(ids) for ids in changes.values())
        announce(session, "client_group.price_lists.bulk", list_codes=touched, rows=written)
    return answer


async def _clients(
    request: Request, session: AsyncSession, company_ids: set[uuid.UUID]
) -> tuple[dict[uuid.UUID, int], dict[Any, list[Error]]]:
    """The clients named, locked: those pricing knows, and those accounts has that pricing has
    not heard of yet (their placeholders made now, as the single endpoints do); the others are
    each a row error on `company_id`."""
    clients = await store.clients_by_company(session, company_ids)
    refused: dict[Any, list[Error]] = {}
    for company_id in sorted(company_ids - set(clients)):
        company = await accounts_company(request.app.state.upstreams, company_id)
        if company is None:
            refused[company_id] = [("company_id", "is not a client")]
        else:
            await ensure_client(session, company_id, company["currency"])
    if len(refused) < len(company_ids - set(clients)):
        clients = await store.clients_by_company(session, company_ids)
    return clients, refused


@router.post(
    "/clients/price-lists",
    response_model=BulkResult,
    summary="Replace the lists assigned to many clients",
    description=(
        "Each item is a client's whole set, as `PUT /clients/{company_id}/price-lists` takes "
        "it (`[]` removes all): `created` when the client had none, `unchanged` when it is "
        "the set the client has."
    ),
    responses=RESPONSES,
)
async def bulk_client_lists(
    body: ClientAssignmentsBulk,
    request: Request,
    session: SessionDep,
    principal: allow(*WRITERS),
    mode: Mode = FeedMode.ALL_OR_NOTHING,
    idempotency_key: IdempotencyKey = None,
) -> BulkResult:
    clients, refused = await _clients(request, session, {i.company_id for i in body.items})
    before = await store.client_lists(session, clients.values())
    rows = Rows("company_id")
    items = [(i.company_id, i.list_codes) for i in body.items]
    before_by_company = {c: before.get(clients[c], set()) for c in clients}
    changes, _ = await _assign(session, items, before_by_company, rows, refused)
    answer = rows.answer(mode)
    await store.replace_client_lists(session, {clients[c]: ids for c, ids in changes.items()})
    if changes:
        written = sum(len(ids) for ids in changes.values())
        announce(session, "client.price_lists.bulk", client_ids=list(changes), rows=written)
    return answer


# Client discounts ----------------------------------------------------------------------------


@router.post(
    "/clients/discounts",
    response_model=BulkResult,
    summary="Replace many clients' discounts by brand or category",
    description=(
        "Each item is a client's whole set, as `PUT /clients/{company_id}/discounts` takes it "
        "(`[]` removes all): `created` when the client had none, `unchanged` when it is the "
        "set the client has."
    ),
    responses=RESPONSES,
)
async def bulk_client_discounts(
    body: ClientDiscountsBulk,
    request: Request,
    session: SessionDep,
    principal: allow(*WRITERS),
    mode: Mode = FeedMode.ALL_OR_NOTHING,
    idempotency_key: IdempotencyKey = None,
) -> BulkResult:
    clients, refused = await _clients(request, session, {i.company_id for i in body.items})
    before = await store.client_discounts(session, clients.values())
    rows = Rows("company_id")
    changes: dict[int, store.Discounts] = {}
    companies: list[uuid.UUID] = []
    for item in body.items:
        errors = list(refused.get(item.company_id, []))
        seen: set[tuple[str, str]] = set()
        for i, d in enumerate(item.discounts):
            if (d.scope, d.value) in seen:
                errors.append(
                    (f"discounts[{i}].value", f"a second {d.scope} discount on {d.value!r}")
                )
            seen.add((d.scope, d.value))
        wanted = frozenset((d.scope, d.value, d.percent.quantize(CENT)) for d in item.discounts)
        had = before.get(clients.get(item.company_id, 0), frozenset())
        outcome = (
            Outcome.UNCHANGED if wanted == had else Outcome.UPDATED if had else Outcome.CREATED
        )
        if rows.add(str(item.company_id), outcome, errors) and outcome != Outcome.UNCHANGED:
            changes[clients[item.company_id]] = wanted
            companies.append(item.company_id)
    answer = rows.answer(mode)
    written = await store.replace_discounts(session, changes)
    if changes:
        announce(session, "client.discounts.bulk", client_ids=companies, rows=written)
    return answer
