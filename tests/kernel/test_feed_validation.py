"""Row checks of the feed machinery, as plain polars code (no server, no database)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from shared.feeds.models import FeedFormat
from shared.feeds.spec import Column, ColumnType, FeedSpec
from shared.feeds.validation import Checked, UnreadableFeed, check_frame, read_feed, rejections


async def _apply(*_):  # never called: these tests stop at validation
    raise AssertionError


SPEC = FeedSpec(
    kind="things",
    title="Things",
    description="",
    columns=[
        Column("code", required=True, max_length=5),
        Column("qty", ColumnType.DECIMAL, scale=2, minimum=0),
        Column("price_minor", ColumnType.INTEGER, required=True),
        Column("day", ColumnType.DATE),
        Column("at", ColumnType.DATETIME),
        Column("ok", ColumnType.BOOLEAN),
        Column("currency", pattern="[A-Z]{3}", upper=True),
        Column("status", choices=("a", "b")),
    ],
    key=["code"],
    apply=_apply,
)


def _csv(tmp_path: Path, text: str) -> pl.DataFrame:
    path = tmp_path / "feed.csv"
    path.write_text(text)
    return read_feed(path, FeedFormat.CSV)


def _rejected(checked: Checked) -> set[tuple[int, str]]:
    """(row, field) of every rejection."""
    return {(r["_row"], r["field"]) for r in checked.rejections.iter_rows(named=True)}


def test_every_bad_cell_is_reported_with_its_row_and_field(tmp_path):
    raw = _csv(
        tmp_path,
        "code,qty,price_minor,day,at,ok,currency,status,extra\n"
        "A1,1.5,100,2026-01-31,2026-01-31T10:00:00Z,true,eur,a,x\n"  # row 1: good (eur -> EUR)
        ",1.555,12.5,2026-02-30,2026-01-31T10:00:00,maybe,EURO,c,x\n"  # row 2: everything wrong
        "A1,-1,100,,,,,,\n"  # row 3: duplicate key, negative qty
        "TOOLONG,2,7,,,,,,\n",  # row 4: code too long
    )
    checked = check_frame(SPEC, raw)
    assert _rejected(checked) == {
        (2, "code"),
        (2, "qty"),
        (2, "price_minor"),
        (2, "day"),
        (2, "at"),
        (2, "ok"),
        (2, "currency"),
        (2, "status"),
        (3, "qty"),
        (3, "code"),
        (4, "code"),
    }
    assert checked.valid.get_column("_row").to_list() == [1]
    assert checked.valid.get_column("currency").to_list() == ["EUR"]
    assert checked.ignored_columns == ["extra"]
    duplicate = checked.rejections.filter((pl.col("_row") == 3) & (pl.col("field") == "code"))
    assert duplicate.get_column("reason").item() == "repeats the key of row 1"


def test_missing_required_column_makes_the_file_unusable(tmp_path):
    with pytest.raises(UnreadableFeed, match="price_minor"):
        check_frame(SPEC, _csv(tmp_path, "code\nA\n"))


def test_jsonl_and_parquet_read_the_same_as_csv(tmp_path):
    frame = pl.DataFrame({"code": ["A", "B"], "price_minor": [100, 200], "qty": ["1.25", None]})
    frame.write_ndjson(tmp_path / "f.jsonl")
    frame.write_parquet(tmp_path / "f.parquet")
    for path, fmt in (
        (tmp_path / "f.jsonl", FeedFormat.JSONL),
        (tmp_path / "f.parquet", FeedFormat.PARQUET),
    ):
        checked = check_frame(SPEC, read_feed(path, fmt))
        assert checked.rejections.height == 0
        assert checked.valid.get_column("price_minor").to_list() == [100, 200]


def test_garbage_is_an_unreadable_feed(tmp_path):
    path = tmp_path / "f.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(UnreadableFeed):
        read_feed(path, FeedFormat.PARQUET)


STRICT = FeedSpec(
    kind="strict",
    title="Strict",
    description="",
    columns=[
        Column("code", required=True),
        Column("qty", ColumnType.DECIMAL, scale=3),
        Column("amount_minor", ColumnType.INTEGER),
        Column("day", ColumnType.DATE),
        Column("at", ColumnType.DATETIME),
        Column("currency", ColumnType.CURRENCY),
        Column("note", multiline=True),
    ],
    key=["code"],
    apply=_apply,
)


def test_numbers_dates_currencies_and_codes_are_held_to_the_kernels_rules(tmp_path):
    rows = [
        ("OK", "1.5", "100", "2026-01-31", "2026-01-31T10:00:00Z", "eur", "two\nlines"),
        ("Q1", "NaN", "", "", "", "", ""),
        ("Q2", "inf", "", "", "", "", ""),
        ("Q3", "1e3", "", "", "", "", ""),
        ("Q4", "1_000", "", "", "", "", ""),
        ("Q5", "1000000000", "", "", "", "", ""),  # beyond the largest quantity
        ("A1", "", "1000000000000000", "", "", "", ""),  # beyond the largest amount
        ("A2", "", "-9223372036854775807", "", "", "", ""),
        ("D1", "", "", "9999-12-31", "", "", ""),
        ("D2", "", "", "", "1900-01-01T00:00:00Z", "", ""),
        ("C1", "", "", "", "", "AAA", ""),
        ("K\x00", "", "", "", "", "", ""),
        ("K\x1b[2J", "", "", "", "", "", ""),
        ("K\n2", "", "", "", "", "", ""),
        ("N1", "", "", "", "", "", "bell\x07"),
    ]
    raw = pl.DataFrame(
        rows, schema=["code", "qty", "amount_minor", "day", "at", "currency", "note"], orient="row"
    )
    raw = raw.select(pl.all().replace("", None)).with_row_index("_row", offset=1)
    checked = check_frame(STRICT, raw.with_columns(pl.col("_row").cast(pl.Int64)))
    assert _rejected(checked) == {
        (2, "qty"),
        (3, "qty"),
        (4, "qty"),
        (5, "qty"),
        (6, "qty"),
        (7, "amount_minor"),
        (8, "amount_minor"),
        (9, "day"),
        (10, "at"),
        (11, "currency"),
        (12, "code"),
        (13, "code"),
        (14, "code"),
        (15, "note"),
    }
    assert checked.valid.row(0, named=True)["currency"] == "EUR"


def test_a_positive_column_takes_what_is_above_0_and_a_frame_check_names_its_rows(tmp_path):
    spec = FeedSpec(
        kind="sizes",
        title="Sizes",
        description="",
        columns=[
            Column("code", required=True),
            Column("kg", ColumnType.DECIMAL, positive=True, maximum=10),
            Column("note"),
        ],
        key=["code"],
        apply=_apply,
        frame_checks=[lambda frame: rejections(frame, pl.col("note") == "bad", "note", "is bad")],
    )
    raw = _csv(tmp_path, "code,kg,note\nA,0.5,\nB,0,\nC,-1,\nD,11,\nE,,bad\n")
    checked = check_frame(spec, raw)
    reasons = {
        (r["_row"], r["field"], r["reason"]) for r in checked.rejections.iter_rows(named=True)
    }
    assert reasons == {
        (2, "kg", "must be above 0"),
        (3, "kg", "must be above 0"),
        (4, "kg", "must be at most 10 in size"),
        (5, "note", "is bad"),
    }
    assert checked.valid["code"].to_list() == ["A"]
