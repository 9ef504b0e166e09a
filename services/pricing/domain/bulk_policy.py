"""The single policy endpoints' rules, as a batch of many items applies them to one item: what
a list item may change here, and what a whole set of assigned lists comes to."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

Error = tuple[str, str]  # (the item's field, why)


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


# What a list item sets that moves no price: stored without governance, as PATCH does.
PLAIN_FIELDS = ("name", "currency", "priority", "is_base", "valid_from", "valid_to")
GOVERNED = "moves prices: change it with PATCH /price-lists/{code}, which is governed"


def outcome(before: Any, same: bool) -> Outcome:
    """A row is created where nothing was, unchanged when it is what is stored, else updated."""
    if same:
        return Outcome.UNCHANGED
    return Outcome.UPDATED if before else Outcome.CREATED


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


def list_errors(
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


def list_outcome(item: dict[str, Any], stored: Any) -> Outcome:
    same = stored is not None and all(getattr(stored, f) == item[f] for f in PLAIN_FIELDS)
    return outcome(stored is not None, same)


def assignment(
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
    return outcome(before, set(ids) == (before or set())), ids, errors


def discount_errors(discounts: list[Any]) -> list[Error]:
    """A client's set names each (scope, value) once."""
    errors: list[Error] = []
    seen: set[tuple[str, str]] = set()
    for i, d in enumerate(discounts):
        if (d.scope, d.value) in seen:
            errors.append((f"discounts[{i}].value", f"a second {d.scope} discount on {d.value!r}"))
        seen.add((d.scope, d.value))
    return errors
