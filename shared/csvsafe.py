"""CSV that a person opens in a spreadsheet: a text cell that begins like a formula (`=`, `+`,
`-`, `@`, a tab or a carriage return) is written with a leading apostrophe, so Excel,
LibreOffice and Google Sheets show it instead of running it (OWASP, "CSV injection"). Names,
notes and values as ERP or a buyer sent them reach other people this way.

Used by every CSV meant for people: the order history export, a client's price list, feed
rejection reports and price-feed diffs. Files read by programs keep their text exact, because a
prefix would change the data they carry: marketplace and partner price feeds, a price list's
prices for catalog, and the CSV the services COPY into PostgreSQL. XLSX needs nothing: polars
writes text cells as strings, never as formulas.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import polars as pl

FORMULA_START = "=+-@\t\r"
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")  # "-5" is a number, not a formula
_NEEDS_PREFIX = r"^[=+\-@\t\r]"
_PLAIN_NUMBER = r"^[+-]?[0-9]+(\.[0-9]+)?$"


def cell(value: Any) -> Any:
    """`value` as a spreadsheet should show it."""
    if isinstance(value, str) and value[:1] and value[0] in FORMULA_START:
        return value if _NUMBER.fullmatch(value) else "'" + value
    return value


def row(values: Iterable[Any]) -> list[Any]:
    return [cell(v) for v in values]


def frame(table: pl.DataFrame) -> pl.DataFrame:
    """Every text column of `table` made safe, column by column."""
    text = [name for name, kind in table.schema.items() if kind == pl.Utf8]
    return table.with_columns(
        pl.when(
            pl.col(name).str.contains(_NEEDS_PREFIX) & ~pl.col(name).str.contains(_PLAIN_NUMBER)
        )
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text
    )
