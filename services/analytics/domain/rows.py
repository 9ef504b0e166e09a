"""From the metrics frame to the stored shape: segment columns plus a JSON of the figures."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from services.analytics.domain.facts import SEGMENT_DIMENSIONS

# The figures a profile shows, under the names it shows them by.
METRIC_COLUMNS = {
    "orders": "orders",
    "revenue_minor": "revenue_minor",
    "first_order_at": "first_order_at",
    "last_order_at": "last_order_at",
    "average_check_minor": "average_check_minor",
    "orders_per_month": "orders_per_month",
    "margin_minor": "margin_minor",
    "margin_share": "margin_share",
    "lifetime_months": "lifetime_months",
    "ltv_minor": "ltv_minor",
    "ltv_revenue_minor": "ltv_revenue_minor",
    "margin_by_year": "margin_by_year",
    "abc_revenue_minor": "abc_revenue_minor",
    "abc_margin_minor": "abc_margin_minor",
    "months_in_xyz": "xyz_months",
    "xyz_cv": "xyz_cv",
    "matrix_cell": "matrix_cell",
    "matrix_action": "matrix_action",
    "r_score": "r_score",
    "f_score": "f_score",
    "m_score": "m_score",
    "days_since_last_order": "days_since_last_order",
    "rfm_orders": "rfm_orders",
    "rfm_revenue_minor": "rfm_revenue_minor",
    "median_gap_days": "median_gap_days",
    "gap_cv": "gap_cv",
    "usual_gap_days": "usual_gap_days",
    "volume_drop": "volume_drop",
    "churn_reason": "churn_reason",
    "share_of_wallet": "share_of_wallet",
    "purchase_potential_minor": "purchase_potential_minor",
    "sales_share": "sales_share",
    "concentration_level": "concentration_level",
    "overdue_minor": "overdue_minor",
    "frequent_window_orders": "frequent_window_orders",
    "otif_rate": "otif_rate",
    "nps_average": "nps_average",
    "csat_average": "csat_average",
    "satisfaction": "satisfaction",
}
# The columns of the client_segments table a recompute writes.
SEGMENT_COLUMNS = (
    "client_id",
    "currency",
    *SEGMENT_DIMENSIONS,
    "churn_score",
    "churn_raised",
    "revenue_minor",
    "ltv_minor",
    "metrics",
    "computed_at",
)


def segment_rows(frame: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """One row per client in the column order of the client_segments table."""
    metrics = pl.struct(
        [
            pl.col(source).round(4).alias(target)
            if frame.schema[source] == pl.Float64
            else pl.col(source).alias(target)
            for source, target in METRIC_COLUMNS.items()
        ]
    ).struct.json_encode()
    computed = {
        "currency": pl.col("currency").fill_null("XXX"),
        "revenue_minor": pl.col("revenue_minor").fill_null(0),
        "metrics": metrics,
        "computed_at": pl.lit(as_of),
    }
    return frame.select([computed.get(c, pl.col(c)).alias(c) for c in SEGMENT_COLUMNS])
