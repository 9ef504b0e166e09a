"""PostgreSQL binary COPY from columns, built with NumPy: no Python object per row.

Only fixed-width, non-null fields (the hot tables are designed so): int4, int8, bool, date
(days since 1970, with ±infinity for open ends), numeric from thousandths, and fixed-length
text such as a currency code. `encode` returns the rows of a chunk of a COPY ... (FORMAT binary) stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
PG_EPOCH_SHIFT = 10_957  # days from 1970-01-01 to 2000-01-01, PostgreSQL's date epoch
DATE_NEG_INF = -(2**31)
DATE_POS_INF = 2**31 - 1


@dataclass(frozen=True)
class Field:
    column: str
    kind: str  # int4 | int8 | bool | date | numeric_milli | char<n>

    @property
    def width(self) -> int:
        if self.kind.startswith("char"):
            return int(self.kind[4:])
        return {"int4": 4, "int8": 8, "bool": 1, "date": 4, "numeric_milli": 14}[self.kind]


def _numeric_milli(values: np.ndarray) -> np.ndarray:
    """numeric with dscale 3 from thousandths: three base-10000 digits, weight 1, as stored
    by numeric_recv (which normalises the leading and trailing zero digits away)."""
    v = values.astype(np.int64)
    if (v < 0).any() or (v >= 10**11).any():
        raise ValueError("numeric_milli supports 0 <= value < 100,000,000")
    whole, frac = np.divmod(v, 1000)
    out = np.zeros((len(v), 7), dtype=">i2")
    out[:, 0] = 3  # ndigits
    out[:, 1] = 1  # weight: the first digit is units of 10000
    out[:, 2] = 0  # sign: positive
    out[:, 3] = 3  # dscale
    out[:, 4] = whole // 10_000
    out[:, 5] = whole % 10_000
    out[:, 6] = frac * 10
    return out.view("V14").reshape(-1)


def _values(frame: pl.DataFrame, field: Field) -> tuple[str, np.ndarray]:
    series = frame.get_column(field.column)
    if series.null_count():
        raise ValueError(f"binary COPY column {field.column} has nulls")
    match field.kind:
        case "int4":
            return ">i4", series.to_numpy().astype(">i4")
        case "int8":
            return ">i8", series.to_numpy().astype(">i8")
        case "bool":
            return "u1", series.to_numpy().astype("u1")
        case "date":
            days = series.to_numpy().astype(np.int64)
            shifted = np.where(
                (days == DATE_NEG_INF) | (days == DATE_POS_INF), days, days - PG_EPOCH_SHIFT
            )
            return ">i4", shifted.astype(">i4")
        case "numeric_milli":
            return "V14", _numeric_milli(series.to_numpy())
        case _:
            width = field.width
            raw = series.cast(pl.Utf8).to_numpy().astype(f"S{width}")
            if (np.char.str_len(raw) != width).any():
                raise ValueError(f"{field.column} must be exactly {width} characters")
            return f"S{width}", raw


def encode(frame: pl.DataFrame, fields: Sequence[Field]) -> bytes:
    """The rows of one chunk of a binary COPY stream (send SIGNATURE first, TRAILER last)."""
    layout: list[tuple[str, str]] = [("count", ">i2")]
    columns: list[tuple[str, np.ndarray]] = []
    for i, field in enumerate(fields):
        dtype, values = _values(frame, field)
        layout += [(f"len{i}", ">i4"), (f"val{i}", dtype)]
        columns.append((f"val{i}", values))
    rows = np.empty(frame.height, dtype=np.dtype(layout))
    rows["count"] = len(fields)
    for i, field in enumerate(fields):
        rows[f"len{i}"] = field.width
        rows[columns[i][0]] = columns[i][1]
    return rows.tobytes()
