"""Bulk commercial policy: many price lists, group or client list assignments, or client
discounts in one request, each item checked by the single endpoints' rules
(`domain/bulk_policy.py`) and answered row by row with the kernel's batches.

In all_or_nothing mode a bad row refuses the batch before anything is stored; in skip_bad_rows
mode the good rows are written, each kind in one statement. A batch that changed something
announces one `price.changed` naming every list or client it touched; one that changed nothing
announces none.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.domain.bulk_policy import (
    Error,
    Outcome,
    assignment,
    discount_errors,
    list_errors,
    list_outcome,
    outcome,
)
from services.pricing.domain.percents import CENT, basis_points
from services.pricing.store import bulk_policy as store
from services.pricing.store.projections import ensure_client
from services.pricing.usecases.changes import announce
from shared.batches import Batch
from shared.scope import accounts_company


def _settle(rows: Batch, mode: str) -> None:
    """In all_or_nothing mode a bad row refuses it all (asked before anything is stored)."""
    rows.settle(mode, f"{len(rows.rejected)} of {len(rows)} rows are bad; nothing changed.")


async def price_lists(session: AsyncSession, lists: list[Any], mode: str) -> Batch:
    """Each list a whole, by code: created, updated (what moves no price) or unchanged; a
    parent may be a list of an earlier row."""
    items = [
        {**i.model_dump(exclude={"markup_percent"}), "markup_bp": basis_points(i.markup_percent)}
        for i in lists
    ]
    parents = {i["parent_code"] for i in items if i["parent_code"]}
    stored = await store.lists_by_code(session, {i["code"] for i in items} | parents, lock=True)
    known = {code: (row.currency, row.is_matrix) for code, row in stored.items()}
    rows = Batch()
    written: dict[Outcome, list[dict[str, Any]]] = {Outcome.CREATED: [], Outcome.UPDATED: []}
    for item in items:
        code, current = item["code"], stored.get(item["code"])
        errors = [] if rows.repeats(code) else list_errors(item, current, known, parents)
        result = list_outcome(item, current)
        if rows.add(code, result, errors, unique_field="code"):
            known[code] = (item["currency"], False)
            written.get(result, []).append(item)
    _settle(rows, mode)
    created, updated = written[Outcome.CREATED], written[Outcome.UPDATED]
    await store.insert_lists(session, created)
    await store.update_lists(session, updated)
    if created or updated:
        derived = await store.derived_codes(session, [stored[i["code"]].id for i in updated])
        touched = [i["code"] for i in created + updated]
        announce(session, "price_lists.bulk", list_codes=[*touched, *derived], rows=len(touched))
    return rows


async def _assign(
    session: AsyncSession,
    items: list[tuple[Any, list[str]]],
    before: dict[Any, set[int]],
    rows: Batch,
    key_field: str,
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
        result, ids, errors = assignment(codes, lists, before.get(owner))
        errors = (refused or {}).get(owner, []) + errors
        if rows.add(str(owner), result, errors, unique_field=key_field) and (
            result != Outcome.UNCHANGED
        ):
            changes[owner] = ids
            touched |= {codes_of[i] for i in set(ids) ^ before.get(owner, set())}
    return changes, touched


async def group_lists(session: AsyncSession, items: list[Any], mode: str) -> Batch:
    """Each group's whole set of assigned lists (`[]` removes all)."""
    groups = {i.group_code for i in items}
    await store.lock_groups(session, groups)
    before = await store.group_lists(session, groups)
    rows = Batch()
    pairs = [(i.group_code, i.list_codes) for i in items]
    changes, touched = await _assign(session, pairs, before, rows, "group_code")
    _settle(rows, mode)
    await store.replace_group_lists(session, changes)
    if changes:
        written = sum(len(ids) for ids in changes.values())
        announce(session, "client_group.price_lists.bulk", list_codes=touched, rows=written)
    return rows


async def _clients(
    session: AsyncSession, upstreams: Any, company_ids: set[uuid.UUID]
) -> tuple[dict[uuid.UUID, int], dict[Any, list[Error]]]:
    """The clients named, locked: those pricing knows, and those accounts has that pricing has
    not heard of yet (their placeholders made now, as the single endpoints do); the others are
    each a row error on `company_id`."""
    clients = await store.clients_by_company(session, company_ids)
    refused: dict[Any, list[Error]] = {}
    for company_id in sorted(company_ids - set(clients)):
        company = await accounts_company(upstreams, company_id)
        if company is None:
            refused[company_id] = [("company_id", "is not a client")]
        else:
            await ensure_client(session, company_id, company["currency"])
    if len(refused) < len(company_ids - set(clients)):
        clients = await store.clients_by_company(session, company_ids)
    return clients, refused


async def client_lists(session: AsyncSession, upstreams: Any, items: list[Any], mode: str) -> Batch:
    """Each client's whole set of assigned lists (`[]` removes all)."""
    clients, refused = await _clients(session, upstreams, {i.company_id for i in items})
    before = await store.client_lists(session, clients.values())
    rows = Batch()
    pairs = [(i.company_id, i.list_codes) for i in items]
    before_by_company = {c: before.get(clients[c], set()) for c in clients}
    changes, _ = await _assign(session, pairs, before_by_company, rows, "company_id", refused)
    _settle(rows, mode)
    await store.replace_client_lists(session, {clients[c]: ids for c, ids in changes.items()})
    if changes:
        written = sum(len(ids) for ids in changes.values())
        announce(session, "client.price_lists.bulk", client_ids=list(changes), rows=written)
    return rows


async def client_discounts(
    session: AsyncSession, upstreams: Any, items: list[Any], mode: str
) -> Batch:
    """Each client's whole set of discounts by brand or category (`[]` removes all)."""
    clients, refused = await _clients(session, upstreams, {i.company_id for i in items})
    before = await store.client_discounts(session, clients.values())
    rows = Batch()
    changes: dict[int, store.Discounts] = {}
    companies: list[uuid.UUID] = []
    for item in items:
        errors = refused.get(item.company_id, []) + discount_errors(item.discounts)
        wanted = frozenset((d.scope, d.value, d.percent.quantize(CENT)) for d in item.discounts)
        had = before.get(clients.get(item.company_id, 0), frozenset())
        result = outcome(had, wanted == had)
        if rows.add(str(item.company_id), result, errors, unique_field="company_id") and (
            result != Outcome.UNCHANGED
        ):
            changes[clients[item.company_id]] = wanted
            companies.append(item.company_id)
    _settle(rows, mode)
    written = await store.replace_discounts(session, changes)
    if changes:
        announce(session, "client.discounts.bulk", client_ids=companies, rows=written)
    return rows
