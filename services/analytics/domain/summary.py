"""The client base at a glance, per currency: segment counts, the ABC/XYZ matrix, retention
(CRR per period, cohort curve), penetration, concentration, LTV distribution, satisfaction
against LTV and churn. And the SKU ABC/XYZ."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from services.analytics.domain.base_stats import abc_by_currency, xyz_class
from services.analytics.domain.definitions import Definitions
from services.analytics.domain.facts import TOUCHPOINTS, month_index, month_of
from services.analytics.domain.figures import touchpoint_scores

LTV_BUCKETS = 10


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    counted = frame.filter(pl.col(column).is_not_null()).group_by(column).len().sort(column)
    return dict(zip(counted[column].to_list(), counted["len"].to_list(), strict=True))


def retention(orders: pl.LazyFrame, as_of: datetime, d: Definitions) -> pl.DataFrame:
    """CRR = (E - N) / S x 100 per calendar period of `crr_period_months`, per currency: S
    clients that bought in the period before, E clients that bought in the period, N those of E
    whose first order (in the facts) is in the period. Each of the last `crr_periods` complete
    periods is listed, a period without buyers too (E = 0, CRR 0 %); CRR is null where S = 0.
    The current, incomplete period is left out."""
    n = d.crr_period_months
    period = month_index(pl.col("placed_at")) // n
    current = month_of(as_of) // n
    active = (
        orders.filter(pl.col("placed_at") <= as_of)
        .select("currency", "client_id", period.alias("period"))
        .unique()
    )
    first = active.group_by("currency", "client_id").agg(first=pl.col("period").min())
    per = (
        active.join(first, ["currency", "client_id"])
        .group_by("currency", "period")
        .agg(active=pl.len(), new=(pl.col("period") == pl.col("first")).sum())
    )
    # Every period by its number, so an empty one reads 0 and the next one's S is 0, not an
    # older period's buyers.
    listed = pl.LazyFrame(
        {"period": list(range(current - d.crr_periods, current))}, schema={"period": pl.Int32}
    )
    before = per.select("currency", (pl.col("period") + 1).alias("period"), start=pl.col("active"))
    return (
        active.select("currency")
        .unique()
        .join(listed, how="cross")
        .join(per, ["currency", "period"], "left")
        .join(before, ["currency", "period"], "left")
        .with_columns(pl.col("active", "new", "start").fill_null(0).cast(pl.Int64))
        .with_columns(
            crr=pl.when(pl.col("start") > 0).then(
                ((pl.col("active") - pl.col("new")) / pl.col("start") * 100).round(1)
            ),
            starts=pl.format(
                "{}-{}",
                pl.col("period") * n // 12,
                (pl.col("period") * n % 12 + 1).cast(pl.String).str.zfill(2),
            ),
        )
        .sort("currency", "period")
        .collect()
    )


def cohort_curve(orders: pl.LazyFrame, months: int = 12) -> pl.DataFrame:
    """Share of each first-order-month cohort still buying k months later, pooled over the
    cohorts old enough to have month k (per currency)."""
    month = month_index(pl.col("placed_at"))
    active = orders.select("currency", "client_id", month.alias("month")).unique()
    cohorts = active.group_by("currency", "client_id").agg(cohort=pl.col("month").min())
    last = active.group_by("currency").agg(last=pl.col("month").max())
    sizes = cohorts.group_by("currency", "cohort").agg(size=pl.len())
    reached = (
        active.join(cohorts, ["currency", "client_id"])
        .with_columns(offset=pl.col("month") - pl.col("cohort"))
        .filter(pl.col("offset") < months)
        .group_by("currency", "cohort", "offset")
        .agg(active=pl.len())
    )
    offsets = pl.LazyFrame({"offset": list(range(months))}, schema={"offset": pl.Int32})
    eligible = (
        sizes.join(last, "currency")
        .join(offsets, how="cross")
        .filter(pl.col("cohort") + pl.col("offset") <= pl.col("last"))
        .join(reached, ["currency", "cohort", "offset"], "left")
    )
    return (
        eligible.group_by("currency", "offset")
        .agg(share=(pl.col("active").fill_null(0).sum() / pl.col("size").sum()).round(4))
        .sort("currency", "offset")
        .collect()
    )


def summarise(
    clients: pl.DataFrame,
    orders: pl.LazyFrame,
    feedback: pl.LazyFrame,
    as_of: datetime,
    d: Definitions,
) -> dict[str, dict[str, Any]]:
    """{currency: summary} from the metrics frame and the facts."""
    crr = retention(orders, as_of, d)
    curve = cohort_curve(orders)
    scores = touchpoint_scores(
        feedback.join(clients.lazy().select("client_id", "currency"), "client_id"), "currency"
    ).collect()
    per_client_tp = (
        feedback.group_by("client_id", "touchpoint")
        .agg(score=pl.col("nps").mean())
        .collect()
        .join(
            clients.select("client_id", "currency", "ltv_revenue_minor", "churn_score"), "client_id"
        )
    )
    out: dict[str, dict[str, Any]] = {}
    for (currency,), group in clients.filter(pl.col("currency").is_not_null()).group_by(
        "currency", maintain_order=True
    ):
        buyers = group.filter(pl.col("orders") > 0)
        active = buyers.filter(pl.col("rfm_orders") > 0)
        revenue = buyers.sort("abc_revenue_minor", descending=True)["abc_revenue_minor"]
        total = int(revenue.sum() or 0)
        shares = (revenue / total) if total else revenue * 0
        matrix = (
            buyers.filter(pl.col("matrix_cell").is_not_null())
            .group_by("matrix_cell")
            .agg(clients=pl.len(), revenue_minor=pl.col("abc_revenue_minor").sum())
            .sort("matrix_cell")
        )
        ltv = buyers["ltv_revenue_minor"].drop_nulls()
        edges: list[int] = []
        histogram: list[int] = []
        if len(ltv):
            top = max(int(ltv.max() or 0), 1)
            step = max(top // LTV_BUCKETS + 1, 1)
            edges = [i * step for i in range(LTV_BUCKETS + 1)]
            histogram = [0] * LTV_BUCKETS
            for bucket, n in (ltv // step).clip(0, LTV_BUCKETS - 1).value_counts().iter_rows():
                histogram[int(bucket)] = int(n)
        tp = per_client_tp.filter(pl.col("currency") == currency)
        satisfaction = []
        for touchpoint in TOUCHPOINTS:
            row = scores.filter(
                (pl.col("currency") == currency) & (pl.col("touchpoint") == touchpoint)
            )
            these = tp.filter(pl.col("touchpoint") == touchpoint)
            satisfaction.append(
                {
                    "touchpoint": touchpoint,
                    "nps": row["nps"][0] if len(row) else None,
                    "csat": row["csat"][0] if len(row) else None,
                    "answers": int(row["answers"][0]) if len(row) else 0,
                    "correlation_with_ltv": _corr(these, "ltv_revenue_minor"),
                    "correlation_with_churn": _corr(these, "churn_score"),
                }
            )
        out[currency] = {
            "clients": group.height,
            "buyers": buyers.height,
            "active": active.height,
            "revenue_minor": total,
            "abc_revenue": _counts(buyers, "abc_revenue"),
            "abc_margin": _counts(buyers, "abc_margin"),
            "xyz": _counts(buyers, "xyz"),
            "matrix": matrix.to_dicts(),
            "rfm_segment": _counts(buyers, "rfm_segment"),
            "rfm_map": buyers.group_by("r_score", "f_score")
            .len()
            .sort("r_score", "f_score")
            .rename({"len": "clients"})
            .to_dicts(),
            "regularity": _counts(buyers, "regularity"),
            "check_tier": _counts(buyers, "check_tier"),
            "ladder": _counts(buyers, "ladder"),
            "payment_behaviour": _counts(group, "payment_behaviour"),
            "concentration": _counts(group, "concentration"),
            "churn_raised": int(buyers["churn_raised"].sum()),
            "penetration": round((active["regularity"] == "regular").sum() / active.height, 4)
            if active.height
            else None,
            "top1_share": round(float(shares[:1].sum()), 4) if total else None,
            "top10_share": round(float(shares[:10].sum()), 4) if total else None,
            "hhi": round(float((shares**2).sum()), 4) if total else None,
            "retention": crr.filter(pl.col("currency") == currency)
            .select("starts", "start", "active", "new", "crr")
            .to_dicts(),
            "cohort_curve": curve.filter(pl.col("currency") == currency)["share"].to_list(),
            "ltv_histogram": {"edges_minor": edges, "clients": histogram},
            "satisfaction": satisfaction,
        }
    return out


def _corr(frame: pl.DataFrame, column: str) -> float | None:
    pairs = frame.select("score", column).drop_nulls()
    if pairs.height < 3:
        return None
    value = pairs.select(pl.corr("score", column)).item()
    return None if value is None or value != value else round(float(value), 4)


def sku_segments(
    sku_months: pl.LazyFrame, sku_revenue: pl.LazyFrame, as_of: datetime, d: Definitions
) -> pl.DataFrame:
    """SKU ABC by revenue in the ABC window (`sku_revenue`: per SKU and currency, the orders of
    the last `abc_months` x 30.4375 days, the clients' ABC window), XYZ by the variation of
    monthly quantity over the complete `xyz_months` (from the SKU's first month), per
    currency. A SKU sold only before the window is C."""
    end = month_of(as_of) - 1
    start = end - d.xyz_months + 1
    m = sku_months.with_columns(month=month_index(pl.col("month")))
    per = m.group_by("sku", "currency").agg(
        first_month=pl.col("month").min(),
        q_sum=pl.col("quantity").filter(pl.col("month").is_between(start, end)).sum(),
        q_sumsq=(pl.col("quantity") ** 2).filter(pl.col("month").is_between(start, end)).sum(),
    )
    per = (
        per.join(
            sku_revenue.select("sku", "currency", "revenue_minor"),
            ["sku", "currency"],
            "full",
            coalesce=True,
        )
        .with_columns(pl.col("revenue_minor").fill_null(0), pl.col("q_sum", "q_sumsq").fill_null(0))
        .with_columns(first_month=pl.col("first_month").fill_null(month_of(as_of)))
    )
    per = per.with_columns(
        n=pl.lit(end) - pl.max_horizontal("first_month", pl.lit(start)) + 1
    ).with_columns(mean=pl.when(pl.col("n") > 0).then(pl.col("q_sum") / pl.col("n")))
    per = per.with_columns(
        quantity_cv=pl.when(pl.col("mean") > 0).then(
            (pl.col("q_sumsq") / pl.col("n") - pl.col("mean") ** 2).clip(lower_bound=0).sqrt()
            / pl.col("mean")
        )
    )
    classes = abc_by_currency(per, "sku", "revenue_minor", d).select(
        pl.col("key").alias("sku"), "currency", "abc"
    )
    return (
        per.join(classes, ["sku", "currency"], "left")
        .with_columns(
            xyz=xyz_class("quantity_cv", pl.col("n") < d.xyz_min_months, d),
            quantity_cv=pl.col("quantity_cv").round(4),
        )
        .select("sku", "currency", "abc", "xyz", "revenue_minor", "quantity_cv")
        .sort("currency", "sku")
        .collect()
    )
