"""The price book on its own (no database): a factored client's matrix list beside the base
and group lists, through the same gather, rules and decision a resolve runs."""

from __future__ import annotations

import uuid
from datetime import date

import numpy as np
import polars as pl

from services.pricing.price_book.book import PriceBook
from services.pricing.price_book.resolve import decide_lines
from services.pricing.price_book.tables import ClientPrices, EntryTable
from services.pricing.store.prices import NEVER_AFTER, NEVER_BEFORE, ClientRow, to_day_number

DAY = to_day_number(date(2026, 11, 23))
BASE, GROUP, MATRIX = 1, 2, 3
S1, S2, S3 = 1, 2, 3


def book() -> tuple[PriceBook, EntryTable]:
    lists = pl.DataFrame(
        [
            (BASE, "BASE", "EUR", 0, True, False, 0, 0, NEVER_BEFORE, NEVER_AFTER),
            (GROUP, "GROUP", "EUR", 0, False, False, 0, 0, NEVER_BEFORE, NEVER_AFTER),
            (MATRIX, "MATRIX-1", "EUR", 0, False, True, 0, 0, NEVER_BEFORE, NEVER_AFTER),
        ],
        schema=[
            "id",
            "code",
            "currency",
            "priority",
            "is_base",
            "is_matrix",
            "parent_id",
            "markup_bp",
            "valid_from",
            "valid_to",
        ],
        orient="row",
    )
    entries = pl.DataFrame(
        [  # list, sku, min_qty (thousandths), price
            (BASE, S1, 1_000, 10_857),
            (BASE, S1, 10_000, 10_000),
            (BASE, S2, 1_000, 5_000),
            (BASE, S3, 1_000, 7_000),
            (GROUP, S1, 1_000, 10_500),
            (MATRIX, S1, 1_000, 10_390),
            (MATRIX, S2, 1_000, 4_000),
            (MATRIX, S3, 1_000, 6_000),
        ],
        schema=["list_id", "sku_id", "min_qty", "price"],
        orient="row",
    ).with_columns(valid_from=pl.lit(NEVER_BEFORE), valid_to=pl.lit(NEVER_AFTER))
    skus = pl.DataFrame(
        {"id": [S1, S2, S3], "sku": ["S1", "S2", "S3"], "brand": "", "category": ""}
    )
    floors = pl.DataFrame(schema={"sku_id": pl.Int64, "currency": pl.Utf8, "price": pl.Int64})
    promotions = pl.DataFrame(
        schema=["code", "scope", "value", "bp", "valid_from", "valid_to"]
    ).cast({"bp": pl.Int64, "valid_from": pl.Int64, "valid_to": pl.Int64})
    priced = PriceBook(lists, {"G": [GROUP]}, skus, floors, promotions)
    return priced, EntryTable(entries, lists)


def factored_client() -> ClientPrices:
    """On the matrix list at -5 %, with one exception (S2), a bulk tier (S1) and a gap (S3)."""
    row = ClientRow(
        id=1,
        company_id=uuid.uuid4(),
        currency="EUR",
        group_code="G",
        list_ids=[],
        matrix_list_id=MATRIX,
        matrix_bp=-500,
        discounts=[],
        ladder=None,
        turnover_minor=0,
        assignments=[],
        price_version=0,
    )
    own = pl.DataFrame(
        [  # sku, min_qty, price, currency, valid_from, valid_to, gap
            (S1, 50_000, 8_000, "EUR", NEVER_BEFORE, NEVER_AFTER, 0),
            (S2, 1_000, 4_100, "EUR", NEVER_BEFORE, NEVER_AFTER, 0),
            (S2, 10_000, 3_900, "EUR", NEVER_BEFORE, DAY, 0),  # ended yesterday
            (S3, 0, -1, "", 0, 0, 1),
        ],
        schema=["sku_id", "min_qty", "price", "currency", "valid_from", "valid_to", "gap"],
        orient="row",
    )
    return ClientPrices.build(row, own)


def test_the_matrix_price_beats_the_lists_and_gives_way_only_to_the_clients_own_row():
    priced, entries = book()
    lines = [(S1, 1), (S1, 10), (S2, 1), (S2, 10), (S3, 1)]
    decided, _, _ = decide_lines(
        priced,
        factored_client(),
        entries,
        np.array([s for s, _ in lines], np.int64),
        np.array([q * 1000 for _, q in lines], np.int64),
        "EUR",
        DAY,
    )
    # S1: 10,390 less 5 % (9,870.5, half up), over the base and group prices of the same tier,
    # also at 10 where the base has a cheaper tier; the client's own tier at 50 is next.
    # S2: the exception replaces the matrix price (3,800); its ended bulk row counts for nothing.
    # S3: a gap, so not the matrix list's 5,700 but the base list's price.
    assert decided.unit_price.tolist() == [9_871, 9_871, 4_100, 4_100, 7_000]
    assert decided.next_qty.tolist()[:2] == [50_000, 50_000]
