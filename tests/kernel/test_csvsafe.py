"""CSV for people: a cell that begins like a formula is shown, never run."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from shared import csvsafe
from shared.feeds.models import FeedFormat
from shared.feeds.spec import Column, ColumnType, FeedSpec
from shared.feeds.validation import check_frame, read_feed, write_report

FORMULAS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1"]
HARMLESS = ["plain", "-5", "+7", "12.50", "", "a=b"]


def test_a_text_cell_that_starts_a_formula_gets_an_apostrophe():
    assert csvsafe.row(FORMULAS) == [f"'{v}" for v in FORMULAS]
    assert csvsafe.row(HARMLESS) == HARMLESS
    assert csvsafe.row([-5, 3.5, None]) == [-5, 3.5, None]


def test_a_frame_is_made_safe_column_by_column():
    table = pl.DataFrame({"text": FORMULAS + HARMLESS, "number": range(12)})
    safe = csvsafe.frame(table)
    assert safe["text"].to_list() == [f"'{v}" for v in FORMULAS] + HARMLESS
    assert safe["number"].to_list() == list(range(12))


async def _apply(*_):
    raise AssertionError


def test_a_feed_rejection_report_shows_what_was_sent_without_running_it(tmp_path: Path):
    spec = FeedSpec(
        kind="t",
        title="t",
        description="",
        columns=[Column("code", required=True), Column("amount", ColumnType.INTEGER)],
        key=["code"],
        apply=_apply,
    )
    feed = tmp_path / "feed.csv"
    feed.write_text('code,amount\nA,"=HYPERLINK(""http://evil.example"")"\nB,-1x\n')
    checked = check_frame(spec, read_feed(feed, FeedFormat.CSV))
    write_report(checked.rejections, tmp_path / "report.csv")
    with (tmp_path / "report.csv").open() as report:
        values = [r["value"] for r in csv.DictReader(report)]
    assert values == ['\'=HYPERLINK("http://evil.example")', "'-1x"]
