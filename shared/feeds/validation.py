"""Reading a feed file and checking every row with polars, column by column, never row by row.

The result is the typed frame of good rows and a frame of rejections: one line per
(row, field, reason), row being the 1-based record number (the CSV header is not a record).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl

from shared import csvsafe
from shared.feeds.models import FeedFormat
from shared.feeds.spec import Column, ColumnType, FeedSpec
from shared.fields import CURRENCIES, FIRST_DAY, LAST_DAY, MAX_MINOR, MAX_QUANTITY

# Control characters a code or a name never holds (a line break only in multi-line text).
CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
LINE_BREAK = r"[\t\n\r]"
_CURRENCIES = sorted(CURRENCIES)

ROW = "_row"
REJECTION_SCHEMA = {ROW: pl.Int64, "field": pl.Utf8, "reason": pl.Utf8, "value": pl.Utf8}
_TRUE = ("true", "1", "yes", "y")
_FALSE = ("false", "0", "no", "n")


class UnreadableFeed(Exception):
    """The file as a whole cannot be used: not parseable, or a required column is missing."""


@dataclass
class Checked:
    valid: pl.DataFrame  # typed columns of the spec plus _row
    rejections: pl.DataFrame  # REJECTION_SCHEMA
    rows_total: int
    ignored_columns: list[str]


def read_feed(path: Path, fmt: FeedFormat) -> pl.DataFrame:
    """Every column as text (typing is the checks' job, so a bad cell never fails the file)."""
    try:
        match fmt:
            case FeedFormat.CSV:
                frame = pl.read_csv(path, infer_schema=False, truncate_ragged_lines=False)
            case FeedFormat.JSONL:
                frame = pl.read_ndjson(path, infer_schema_length=None)
            case FeedFormat.PARQUET:
                frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise UnreadableFeed(f"the file is not valid {fmt.value}: {exc}") from exc
    frame = frame.select(
        pl.col(name).cast(pl.Utf8, strict=False).str.strip_chars().replace("", None)
        for name in frame.columns
    )
    return frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))


def rejections(frame: pl.DataFrame, mask: pl.Expr, field: str, reason: str) -> pl.DataFrame:
    """The rows `mask` holds, rejected in `field` for `reason`: a column check's answer, and a
    service's frame check's (`pl.concat` several)."""
    value = pl.col(field).cast(pl.Utf8) if field in frame.columns else pl.lit(None, pl.Utf8)
    return frame.filter(mask).select(
        pl.col(ROW),
        pl.lit(field).alias("field"),
        pl.lit(reason).alias("reason"),
        value.alias("value"),
    )


def _typed(column: Column) -> pl.Expr:
    raw = pl.col(column.name)
    match column.type:
        case ColumnType.TEXT:
            return raw.str.to_uppercase() if column.upper else raw
        case ColumnType.CURRENCY:
            return raw.str.to_uppercase()
        case ColumnType.INTEGER:
            return raw.cast(pl.Int64, strict=False)
        case ColumnType.DECIMAL:
            # Only plain digits reach the cast: "NaN", "1e3" or "1_000" are not numbers here.
            plain = raw.str.contains(_decimal_pattern(column))
            return pl.when(plain).then(raw).cast(pl.Decimal(38, column.scale), strict=False)
        case ColumnType.DATE:
            return raw.str.to_date("%Y-%m-%d", strict=False)
        case ColumnType.DATETIME:
            return raw.str.to_datetime(strict=False, time_zone="UTC")
        case ColumnType.BOOLEAN:
            lower = raw.str.to_lowercase()
            return (
                pl.when(lower.is_in(_TRUE))
                .then(True)
                .when(lower.is_in(_FALSE))
                .then(False)
                .otherwise(None)
            )


_TYPE_REASON = {
    ColumnType.INTEGER: "is not a whole number",
    ColumnType.DECIMAL: "is not a decimal number",
    ColumnType.DATE: "is not a date (YYYY-MM-DD)",
    ColumnType.DATETIME: "is not a timestamp with a time zone (ISO 8601)",
    ColumnType.BOOLEAN: "is not true or false",
    ColumnType.CURRENCY: "is not an ISO 4217 currency code",
}


def _decimal_pattern(column: Column) -> str:
    places = rf"(\.[0-9]{{1,{column.scale}}})?" if column.scale else ""
    return rf"^[+-]?[0-9]+{places}$"


def _maximum(column: Column) -> int | Decimal | None:
    if column.maximum is not None:
        return column.maximum
    return {ColumnType.INTEGER: MAX_MINOR, ColumnType.DECIMAL: MAX_QUANTITY}.get(column.type)


def _range_checks(column: Column, typed: pl.Expr) -> list[tuple[pl.Expr, str]]:
    """The bounds every number, date and time of a feed is held to."""
    checks = []
    numeric = column.type in (ColumnType.INTEGER, ColumnType.DECIMAL)
    if column.minimum is not None and numeric:
        checks.append(
            ((typed < column.minimum).fill_null(False), f"must be at least {column.minimum}")
        )
    if column.positive and numeric:
        checks.append(((typed <= 0).fill_null(False), "must be above 0"))
    highest = _maximum(column)
    if highest is not None:
        signed = column.minimum is None and not column.positive
        too_big = typed.abs() > highest if signed else typed > highest
        checks.append((too_big.fill_null(False), f"must be at most {highest} in size"))
    if column.type in (ColumnType.DATE, ColumnType.DATETIME):
        day = typed if column.type == ColumnType.DATE else typed.dt.date()
        checks.append(
            (
                ((day < FIRST_DAY) | (day > LAST_DAY)).fill_null(False),
                f"must be between {FIRST_DAY} and {LAST_DAY}",
            )
        )
    return checks


def _column_rejections(frame: pl.DataFrame, column: Column) -> list[pl.DataFrame]:
    """`frame` has the raw text in `name` and the typed value in `name__typed`."""
    name = column.name
    raw, typed = pl.col(name), pl.col(f"{name}__typed")
    present = raw.is_not_null()
    checks: list[tuple[pl.Expr, str]] = []
    if column.required:
        checks.append((raw.is_null(), "is required"))
    if column.type != ColumnType.TEXT:
        bad_type = present & typed.is_null()
        if column.type == ColumnType.CURRENCY:
            bad_type = present & ~typed.is_in(_CURRENCIES)
        if column.type == ColumnType.DATETIME:
            # A timestamp without an offset is ambiguous; refuse rather than guess UTC.
            bad_type = bad_type | (present & ~raw.str.contains(r"(Z|[+-]\d\d:?\d\d)$"))
        checks.append((bad_type, _TYPE_REASON[column.type]))
    if column.type == ColumnType.TEXT:
        forbidden = CONTROL if column.multiline else f"{CONTROL}|{LINE_BREAK}"
        checks.append((present & raw.str.contains(forbidden), "contains control characters"))
    if column.max_length is not None:
        checks.append(
            (
                present & (raw.str.len_chars() > column.max_length),
                f"is longer than {column.max_length} characters",
            )
        )
    if column.pattern is not None:
        checks.append(
            (
                present
                & ~(typed if column.type == ColumnType.TEXT else raw).str.contains(
                    f"^(?:{column.pattern})$"
                ),
                f"does not match {column.pattern}",
            )
        )
    if column.choices is not None:
        checks.append(
            (present & ~typed.is_in(column.choices), f"must be one of: {', '.join(column.choices)}")
        )
    checks.extend(_range_checks(column, typed))
    return [rejections(frame, mask, name, reason) for mask, reason in checks]


def check_frame(spec: FeedSpec, raw: pl.DataFrame) -> Checked:
    """Apply the spec's column checks, key uniqueness and frame checks to a raw (text) frame."""
    names = [c.name for c in spec.columns]
    missing = [c.name for c in spec.columns if c.required and c.name not in raw.columns]
    if missing:
        raise UnreadableFeed(f"required columns are missing: {', '.join(missing)}")
    ignored = [c for c in raw.columns if c != ROW and c not in names]
    raw = raw.with_columns(pl.lit(None, pl.Utf8).alias(n) for n in names if n not in raw.columns)
    raw = raw.select(ROW, *names)
    typed = raw.select(ROW, *(_typed(c).alias(c.name) for c in spec.columns))

    both = raw.with_columns(typed.select(pl.all().exclude(ROW).name.suffix("__typed")))
    parts: list[pl.DataFrame] = []
    for column in spec.columns:
        parts.extend(_column_rejections(both, column))
    for check in spec.frame_checks:
        parts.append(
            check(typed).select(ROW, "field", "reason").with_columns(value=pl.lit(None, pl.Utf8))
        )
    key = list(spec.key)
    if key:
        parts.append(_duplicate_keys(typed, key))
    rejections = (
        pl.concat([p.cast(REJECTION_SCHEMA) for p in parts])
        if parts
        else pl.DataFrame(schema=REJECTION_SCHEMA)
    ).sort(ROW, "field")
    valid = typed.join(rejections.select(ROW).unique(), on=ROW, how="anti").sort(ROW)
    return Checked(
        valid=valid, rejections=rejections, rows_total=raw.height, ignored_columns=ignored
    )


def _duplicate_keys(typed: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    first_seen = typed.select(
        ROW, pl.col(ROW).min().over(key).alias("_first"), *(pl.col(k) for k in key)
    ).filter(pl.all_horizontal(pl.col(k).is_not_null() for k in key))
    return first_seen.filter(pl.col(ROW) != pl.col("_first")).select(
        ROW,
        pl.lit(",".join(key)).alias("field"),
        pl.format("repeats the key of row {}", pl.col("_first")).alias("reason"),
        pl.lit(None, pl.Utf8).alias("value"),
    )


def write_report(rejections: pl.DataFrame, path: Path) -> None:
    """The downloadable rejection report: row, field, reason, value (as sent)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    csvsafe.frame(rejections.rename({ROW: "row"})).write_csv(path)
