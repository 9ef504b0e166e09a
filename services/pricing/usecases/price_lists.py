"""Price lists: created, edited and deleted. An edit of a derived list's parent or markup
moves prices, so it goes through the governance of list edits (usecases/list_edits.py):
a dry run, a guardrail breach, a staged version or an applied one."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.domain.percents import basis_points
from services.pricing.store import policy as store
from services.pricing.store.models import PriceList
from services.pricing.usecases import list_edits
from services.pricing.usecases.changes import announce
from shared.clock import utcnow
from shared.problems import Conflict


async def create_list(
    session: AsyncSession, fields: dict[str, Any], parent_code: str | None, markup: Decimal
) -> tuple[PriceList, PriceList | None]:
    """A new list (and its parent, when it derives from one)."""
    parent = None
    if parent_code is not None:
        parent = await store.parent_for(session, parent_code, fields["currency"])
    price_list = await store.add_list(
        session,
        PriceList(
            **fields,
            is_matrix=False,
            parent_id=parent.id if parent else None,
            markup_bp=basis_points(markup),
            updated_at=utcnow(),
        ),
    )
    announce(session, "price_list.created", list_codes=[price_list.code])
    return price_list, parent


@dataclass
class Edited:
    """A list after an edit: the parent code it shows and, when its prices moved (or would),
    the governed outcome (`dry_run`, `staged` or `applied`)."""

    price_list: PriceList
    parent_code: str | None
    outcome: list_edits.Outcome | None


async def edit_list(
    session: AsyncSession,
    code: str,
    changes: dict[str, Any],
    *,
    by: str,
    dry_run: bool = False,
    override_reason: str | None = None,
) -> Edited:
    """Change the fields in `changes` (those the caller sent). A dry run or a staged price
    change stores nothing of the list."""
    price_list = store.editable(await store.get_list(session, code, lock=True))
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
        markup_bp = basis_points(markup)
    valid_from = changes.get("valid_from", price_list.valid_from)
    valid_to = changes.get("valid_to", price_list.valid_to)
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        raise store.invalid("valid_to", "must be after valid_from")

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
        return Edited(price_list, current_parent, list_edits.Outcome("dry_run", diff))
    if outcome is not None and outcome.state == "staged":
        if changes:
            raise store.invalid(
                next(iter(changes)),
                "send it on its own: this list's price change waits for approval",
            )
        return Edited(price_list, current_parent, outcome)

    for name, value in changes.items():
        setattr(price_list, name, value)
    price_list.parent_id = parent_id
    price_list.markup_bp = markup_bp
    price_list.updated_at = utcnow()
    await session.flush()
    announce(
        session,
        "price_list.updated",
        list_codes=sorted(
            {price_list.code, *(c for c, _ in derived), *(outcome.list_codes if outcome else [])}
        ),
    )
    return Edited(price_list, parent_code, outcome)


async def delete_list(session: AsyncSession, code: str) -> None:
    """Refused while lists derive from it or it has entries of its own."""
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
    announce(session, "price_list.deleted", list_codes=[price_list.code])
