"""A list's settings as data (domain.list_settings), no database: which stored entries a list
reads under other settings, and what a version keeps of an edit."""

from __future__ import annotations

import polars as pl

from services.pricing.domain.list_settings import (
    changes_of,
    related,
    side,
    source_lists,
    with_settings,
)

# 1 base; 2 derives from 1 (+5 %); 3 derives from 2 (-2 %); 4 stands alone
LISTS = pl.DataFrame(
    {"id": [1, 2, 3, 4], "parent_id": [0, 1, 2, 0], "markup_bp": [0, 500, -200, 0]}
)


def test_a_list_reads_the_entries_of_its_chain_of_parents():
    assert source_lists(LISTS, [3]) == [1, 2, 3]
    assert source_lists(LISTS, [4]) == [4]
    moved = with_settings(LISTS, {3: (4, 100)})  # 3 now derives from 4 at +1 %
    assert source_lists(moved, [3]) == [3, 4]
    assert moved.filter(pl.col("id") == 3).row(0) == (3, 4, 100)
    assert moved.filter(pl.col("id") != 3).equals(LISTS.filter(pl.col("id") != 3))
    assert with_settings(LISTS, {}) is LISTS


def test_descendants_and_ancestors():
    parents = dict(zip(LISTS["id"].to_list(), LISTS["parent_id"].to_list(), strict=True))
    assert related(parents, {1}, up=False) == {1, 2, 3}
    assert related(parents, {3}, up=True) == {1, 2, 3}
    assert related(parents, {4}, up=False) == {4}


def test_a_version_keeps_each_lists_settings_before_and_after():
    changes = changes_of({3: (2, -200)}, {3: (4, 100)}, {3: "GOLD"})
    assert changes == [
        {
            "list_id": 3,
            "code": "GOLD",
            "before": {"parent_id": 2, "markup_bp": -200},
            "after": {"parent_id": 4, "markup_bp": 100},
        }
    ]
    assert side(changes, "before") == {3: (2, -200)}
    assert side(changes, "after") == {3: (4, 100)}
