"""The facts the client metrics are computed from, as polars frames, and the calendar they
are measured in.

Conventions: money is integer minor units in the client's currency (orders in another
currency are left out of that client's figures). Windows of N months are N x 30.4375 days
ending at `as_of` (ABC, RFM, wallet, the churn trend); month series (XYZ) are calendar months
in UTC, and the current month is incomplete, so they use the complete months before `as_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

DAYS_PER_MONTH = 30.4375
QUINTILE_BREAKS = (0.2, 0.4, 0.6, 0.8)
SEGMENT_DIMENSIONS = (
    "abc_revenue",
    "abc_margin",
    "xyz",
    "rfm_segment",
    "regularity",
    "check_tier",
    "ladder",
    "payment_behaviour",
    "concentration",
)

ORDERS_SCHEMA = {
    "client_id": pl.String,
    "currency": pl.String,
    "placed_at": pl.Datetime("us", "UTC"),
    "total_minor": pl.Int64,
    "costed_minor": pl.Int64,
    "cost_minor": pl.Int64,
    "delivered": pl.Boolean,
    "on_time": pl.Boolean,
    "in_full": pl.Boolean,
}
CLIENTS_SCHEMA = {
    "client_id": pl.String,
    "currency": pl.String,
    "purchase_potential_minor": pl.Int64,
    "overdue_minor": pl.Int64,
}
FEEDBACK_SCHEMA = {
    "client_id": pl.String,
    "touchpoint": pl.String,
    "nps": pl.Int64,
    "csat": pl.Int64,
}
TOUCHPOINTS = ("portal", "manager", "delivery", "product")


@dataclass
class Facts:
    """What the metrics are computed from: counted orders, clients, feedback."""

    orders: pl.LazyFrame
    clients: pl.LazyFrame
    feedback: pl.LazyFrame

    @classmethod
    def of(
        cls,
        orders: list[dict] | pl.DataFrame | pl.LazyFrame,
        clients: list[dict] | pl.DataFrame | pl.LazyFrame,
        feedback: list[dict] | pl.DataFrame | pl.LazyFrame | None = None,
    ) -> Facts:
        return cls(
            _frame(orders, ORDERS_SCHEMA),
            _frame(clients, CLIENTS_SCHEMA),
            _frame(feedback or [], FEEDBACK_SCHEMA),
        )


def _frame(data: list[dict] | pl.DataFrame | pl.LazyFrame, schema: dict) -> pl.LazyFrame:
    if isinstance(data, pl.LazyFrame):
        return data
    if isinstance(data, pl.DataFrame):
        return data.lazy()
    frame = pl.DataFrame(data, schema_overrides=schema, infer_schema_length=None)
    for name, dtype in schema.items():
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype).alias(name))
    return frame.select([pl.col(n).cast(t) for n, t in schema.items()]).lazy()


def month_index(expr: pl.Expr) -> pl.Expr:
    return expr.dt.year().cast(pl.Int32) * 12 + expr.dt.month().cast(pl.Int32) - 1


def month_of(moment: datetime) -> int:
    return moment.year * 12 + moment.month - 1


def month_span(n: int) -> timedelta:
    """N months of 30.4375 days."""
    return timedelta(days=n * DAYS_PER_MONTH)
