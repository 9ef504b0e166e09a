"""A list's settings (its parent and markup) as data: the rules that read a list frame under
other settings, and what a version keeps of an edit of them. A derived list stores no prices:
they are its parent's with its markup, so settings decide which stored entries a list reads."""

from __future__ import annotations

from typing import Any

import polars as pl

Settings = dict[int, tuple[int, int]]  # list id -> (parent id, 0 for none; markup in bp)


def related(parents: dict[int, int], start: set[int], *, up: bool) -> set[int]:
    """`start` with its ancestors (up) or its descendants (down) through `parents`."""
    found = set(start)
    if up:
        frontier = list(start)
        while frontier:
            parent = parents.get(frontier.pop(), 0)
            if parent and parent not in found:
                found.add(parent)
                frontier.append(parent)
        return found
    while True:
        more = {child for child, parent in parents.items() if parent in found} - found
        if not more:
            return found
        found |= more


def with_settings(lists: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """The lists frame (store.prices.price_lists) with these lists' parent and markup."""
    if not settings:
        return lists
    ids = list(settings)
    parent = pl.Series([settings[i][0] for i in ids], dtype=pl.Int64)
    markup = pl.Series([settings[i][1] for i in ids], dtype=pl.Int64)
    at = pl.col("id").is_in(ids)
    return lists.with_columns(
        pl.when(at)
        .then(pl.col("id").replace_strict(ids, parent, default=0))
        .otherwise(pl.col("parent_id"))
        .alias("parent_id"),
        pl.when(at)
        .then(pl.col("id").replace_strict(ids, markup, default=0))
        .otherwise(pl.col("markup_bp"))
        .alias("markup_bp"),
    )


def source_lists(lists: pl.DataFrame, wanted: list[int]) -> list[int]:
    """The lists whose stored entries `wanted` read under these settings."""
    parents = dict(zip(lists["id"].to_list(), lists["parent_id"].to_list(), strict=True))
    return sorted(related(parents, set(wanted), up=True))


def changes_of(
    current: Settings, settings: Settings, codes: dict[int, str]
) -> list[dict[str, Any]]:
    """What a version keeps of an edit of lists: each list's settings before and after."""
    return [
        {
            "list_id": list_id,
            "code": codes.get(list_id, ""),
            "before": {"parent_id": current[list_id][0], "markup_bp": current[list_id][1]},
            "after": {"parent_id": parent, "markup_bp": markup},
        }
        for list_id, (parent, markup) in sorted(settings.items())
    ]


def side(changes: list[dict[str, Any]], which: str) -> Settings:
    """The settings a version's `list_changes` had before (`before`) or made (`after`)."""
    return {c["list_id"]: (int(c[which]["parent_id"]), int(c[which]["markup_bp"])) for c in changes}
