"""Edits of a derived list's parent or markup, under the price feed's governance.

A derived list stores no prices: they are its parent's with its markup, materialised by the
price book. So such an edit is measured by materialising the prices of the edited list and of
every list deriving from it, before and after, the way the book does (`EntryTable`), and
handing that diff to the same rules a feed meets (domain.governance: summary, guardrails,
approval). Its version keeps the lists' settings before and after (`list_changes`) rather
than rows: a rollback puts the befores back, and `explain` as of a past moment reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.domain import governance
from services.pricing.domain.list_settings import (
    Settings,
    changes_of,
    related,
    side,
    with_settings,
)
from services.pricing.price_book.tables import EntryTable
from services.pricing.store import list_settings, versions
from services.pricing.store import prices as prices_store
from services.pricing.store.governance_models import PriceVersion
from services.pricing.store.list_settings import current_settings, store_settings
from shared.events.outbox import record_event
from shared.problems import Conflict, FieldError, Unprocessable


def _prices(table: EntryTable, lists: set[int]) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "list_id": table.key >> 32,
            "sku_id": table.key & 0xFFFFFFFF,
            "min_qty": table.min_qty,
            "valid_from": table.valid_from,
            "price": table.price,
            "valid_to": table.valid_to,
        }
    )
    return frame.filter(pl.col("list_id").is_in(sorted(lists)))


async def diff_settings(session: AsyncSession, settings: Settings) -> pl.DataFrame:
    """The prices these settings would move: every price of the changed lists and of the
    lists deriving from them, old and new, in the diff's shape (domain.governance), `_row`
    numbering the rows. Nothing is written but the transaction's `list_diff` table."""
    before = await prices_store.price_lists(session)
    after = with_settings(before, settings)
    touched: set[int] = set()
    chains: set[int] = set()
    for lists in (before, after):
        parents = dict(zip(lists["id"].to_list(), lists["parent_id"].to_list(), strict=True))
        down = related(parents, set(settings), up=False)
        touched |= down
        chains |= related(parents, down, up=True)
    entries = await prices_store.entries_of_lists(session, sorted(chains))
    key = ["list_id", "sku_id", "min_qty", "valid_from"]
    changed = (
        _prices(EntryTable(entries, before), touched)
        .join(
            _prices(EntryTable(entries, after), touched),
            on=key,
            how="full",
            coalesce=True,
            suffix="_new",
        )
        .filter(
            (pl.col("price").ne_missing(pl.col("price_new")))
            | (pl.col("valid_to").ne_missing(pl.col("valid_to_new")))
        )
        .sort(key)
    )
    currency = dict(zip(before["id"].to_list(), before["currency"].to_list(), strict=True))
    return await list_settings.write_diff(session, changed, currency)


def no_change() -> dict[str, Any]:
    return governance.summarise(pl.DataFrame(schema=versions.DIFF_SCHEMA))


@dataclass
class Outcome:
    """What an edit of lists did: `dry_run` (nothing), `applied` or `staged` (its version)."""

    state: str
    diff: dict[str, Any]
    version: PriceVersion | None = None
    awaiting_approval: list[str] = field(default_factory=list)
    list_codes: list[str] = field(default_factory=list)


def _refusal(diff: pl.DataFrame, found: pl.DataFrame, field_name: str) -> Unprocessable:
    named = found.join(diff.select("_row", "list_code", "sku", "min_qty"), on="_row", how="left")
    errors = [
        FieldError(
            field=field_name,
            message=reason
            if row == 0
            else f"{code} {sku} at {qty / 1000:g}: {reason} (new price {value})",
        )
        for row, reason, value, code, sku, qty in named.select(
            "_row", "reason", "value", "list_code", "sku", "min_qty"
        ).iter_rows()
    ]
    return Unprocessable(
        f"The edit breaks price guardrails ({len(errors)}); nothing changed. An admin or a "
        "pricing manager may send it again with override_reason.",
        slug="guardrails-broken",
        errors=errors[:50],
    )


async def edit_settings(
    session: AsyncSession,
    settings: Settings,
    *,
    code: str,
    field_name: str,
    by: str,
    dry_run: bool = False,
    override: dict[str, Any] | None = None,
) -> Outcome | None:
    """Govern an edit of these lists' parent or markup (before it is stored): None when it
    moves no setting; else its diff for a dry run, its staged version when a guardrail
    wants approval, or its applied version (the caller stores the settings). Raises a
    problem naming the rows when it breaks a guardrail and no override is given."""
    current = await current_settings(session, list(settings))
    if all(current[i] == s for i, s in settings.items()):
        return None
    diff = await diff_settings(session, settings)
    summary = governance.summarise(diff)
    if dry_run:
        return Outcome("dry_run", summary)
    limits = await versions.limits(session)
    if override is None:
        found = governance.breaches(diff, limits)
        if found.height:
            raise _refusal(diff, found, field_name)
    changes = changes_of(current, settings, {i: code for i in settings})
    cause = f"price_list.updated:{code}"
    waiting = governance.needs_approval(diff, limits)
    version = await versions.record_version(
        session,
        cause=cause,
        created_by=by,
        diff=summary,
        override=override,
        table=None,
        list_changes=changes,
        staged=bool(waiting),
    )
    if waiting:
        return Outcome("staged", summary, version, waiting)
    codes = sorted({code, *diff["list_code"].drop_nulls().to_list()})
    record_event(session, versions.applied_event(version, list_codes=codes, client_ids=[]))
    return Outcome("applied", summary, version, list_codes=codes)


async def apply_version(
    session: AsyncSession, version: PriceVersion, which: str
) -> tuple[dict[str, Any], list[str]]:
    """Store a version's settings (`after`: approving it; `before`: rolling it back) if the
    lists still stand where the version found (or left) them: the diff's summary and the
    codes of the lists whose prices moved."""
    wanted = side(version.list_changes, which)
    expected = side(version.list_changes, "before" if which == "after" else "after")
    current = await current_settings(session, list(wanted))
    moved = [
        c["code"]
        for c in version.list_changes
        if current.get(c["list_id"]) != expected[c["list_id"]]
    ]
    if moved:
        raise Conflict(
            f"Lists {', '.join(moved)} changed since this version; edit them instead.",
            errors=[FieldError(field="list_changes", message=f"{c} changed since") for c in moved],
        )
    diff = await diff_settings(session, wanted)
    await store_settings(session, wanted)
    codes = {*(c["code"] for c in version.list_changes), *diff["list_code"].drop_nulls().to_list()}
    return governance.summarise(diff), sorted(codes)
