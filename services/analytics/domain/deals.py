"""Deals and what they show: add-ons taken out of repeat figures, co-purchases, what keeping
clients cost. Plain functions of frames a test builds by hand; the store loads the same shapes.

A **deal** is a client's order with the add-ons that followed it: an order that names an
earlier order (`adds_to_order_id`), or serves the same `need` as the client's previous order
of that need, placed within `window_days` of that order, adds to its deal; any other order
starts a new deal. Repeat figures count deals, so three add-ons to one need are one deal.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from services.analytics.domain.measures import days_between, ratio, rounded

SALES_ORDERS_SCHEMA = {
    "order_id": pl.String,
    "client_id": pl.String,
    "currency": pl.String,
    "placed_at": pl.Datetime("us", "UTC"),
    "total_minor": pl.Int64,
    "lines": pl.Int64,
    "need": pl.String,
    "adds_to_order_id": pl.String,
    "on_behalf": pl.Boolean,
    "delivered_minor": pl.Int64,
}


def mark_deals(orders: pl.DataFrame, window_days: int) -> pl.DataFrame:
    """The orders with `parent_id` (the order an add-on adds to), `addon` and `deal_id` (the
    first order of its deal), `deal_no` (1 = the client's first deal) and `first_deal`.

    Orders are addressed by their row in (client, time) order, so following the chain of
    add-ons to the deal's first order is a few array gathers, not joins of ids."""
    window = float(window_days)
    frame = orders.sort("client_id", "placed_at", "order_id").with_row_index("row")
    rows = frame.select(
        adds_to_order_id=pl.col("order_id"),
        parent_row=pl.col("row"),
        parent_client=pl.col("client_id"),
        parent_at=pl.col("placed_at"),
    )
    named = (
        frame.filter(pl.col("adds_to_order_id").is_not_null())
        .select("row", "client_id", "placed_at", "adds_to_order_id")
        .join(rows, on="adds_to_order_id", how="inner")
        .filter(
            (pl.col("parent_client") == pl.col("client_id"))
            & days_between(pl.col("placed_at"), pl.col("parent_at")).is_between(0, window)
        )
        .select("row", explicit=pl.col("parent_row"))
    )
    frame = (
        frame.with_columns(
            need_parent=pl.when(
                pl.col("need").is_not_null()
                & (
                    days_between(
                        pl.col("placed_at"), pl.col("placed_at").shift(1).over("client_id", "need")
                    )
                    <= window
                )
            ).then(pl.col("row").shift(1).over("client_id", "need"))
        )
        .join(named, on="row", how="left")
        .with_columns(parent_row=pl.coalesce("explicit", "need_parent"))
    )
    parent = frame["parent_row"].fill_null(-1).cast(pl.Int64).to_numpy()
    deal = np.where(parent >= 0, parent, np.arange(len(parent)))
    while True:  # parents are earlier rows, so this ends
        up = parent[deal]
        moved = np.where(up >= 0, up, deal)
        if np.array_equal(moved, deal):
            break
        deal = moved
    addon = parent >= 0
    # a deal's number: the deals the client started up to and with its first order
    start_no = (
        frame.select("client_id")
        .with_columns(start=pl.Series(~addon).cast(pl.Int64))
        .select(pl.col("start").cum_sum().over("client_id"))["start"]
        .to_numpy()
    )
    ids = frame["order_id"]
    return (
        frame.drop("row", "need_parent", "explicit", "parent_row")
        .with_columns(
            addon=pl.Series(addon),
            parent_id=ids.gather(np.maximum(parent, 0)),
            deal_id=ids.gather(deal),
            deal_no=pl.Series(start_no[deal], dtype=pl.Int64),
        )
        .with_columns(
            parent_id=pl.when(pl.col("addon")).then(pl.col("parent_id")),
            first_deal=pl.col("deal_no") == 1,
        )
    )


def deals_of(marked: pl.DataFrame) -> pl.DataFrame:
    """One row per deal: its client, start, value (its orders' totals) and orders."""
    return marked.group_by("deal_id").agg(
        pl.col("client_id").first(),
        pl.col("currency").first(),
        started_at=pl.col("placed_at").min(),
        value_minor=pl.col("total_minor").sum(),
        orders=pl.len(),
        deal_no=pl.col("deal_no").first(),
    )


def repeat_figures(
    marked: pl.DataFrame,
    lines: pl.DataFrame,
    start: datetime,
    end: datetime,
    max_step: int = 5,
) -> dict:
    """Repeat-deal figures of the deals started in [start, end), add-ons taken out.

    `lines`: order_id, sku, category, quantity, unit_price_minor (the period's lines).
    Check depth = distinct SKUs per deal; check width = the mean, over the lines, of the
    unit price against the median unit price of the SKUs bought in the same category in the
    period (1.0 = the usual level, above = dearer alternatives chosen)."""
    deals = deals_of(marked)
    in_period = deals.filter(pl.col("started_at").is_between(start, end, closed="left"))
    orders = marked.filter(pl.col("placed_at").is_between(start, end, closed="left"))
    first_orders = marked.group_by("client_id").agg(first=pl.col("placed_at").min())
    naive_repeats = orders.join(first_orders, on="client_id").filter(
        pl.col("placed_at") > pl.col("first")
    )
    history = deals.filter(pl.col("started_at") < end)
    per_client = history.group_by("client_id").agg(deals=pl.len())
    steps = []
    for k in range(1, max_step + 1):
        had = per_client.filter(pl.col("deals") >= k).height
        went_on = per_client.filter(pl.col("deals") >= k + 1).height
        if had == 0:
            break
        steps.append(
            {"from_deal": k, "clients": had, "next": went_on, "conversion": ratio(went_on, had)}
        )
    gaps = (
        history.sort("client_id", "started_at")
        .with_columns(
            gap=days_between(pl.col("started_at"), pl.col("started_at").shift(1).over("client_id"))
        )
        .filter(
            pl.col("gap").is_not_null() & pl.col("started_at").is_between(start, end, closed="left")
        )["gap"]
    )
    trend = (
        in_period.group_by(month=pl.col("started_at").dt.strftime("%Y-%m"))
        .agg(deals=pl.len(), average_check_minor=pl.col("value_minor").mean().round(0))
        .sort("month")
    )
    period_lines = lines.join(orders.select("order_id", "deal_id"), on="order_id", how="inner")
    depth = period_lines.group_by("deal_id").agg(skus=pl.col("sku").n_unique())["skus"]
    width = period_lines.with_columns(
        level=pl.col("unit_price_minor") / pl.col("unit_price_minor").median().over("category")
    ).filter(pl.col("level").is_not_null() & pl.col("level").is_finite())["level"]
    return {
        "orders": orders.height,
        "deals": in_period.height,
        "add_ons": orders.filter(pl.col("addon")).height,
        "repeat_orders_counted_naively": naive_repeats.height,
        "repeat_deals": in_period.filter(pl.col("deal_no") > 1).height,
        "deal_to_deal": steps,
        "days_between_deals": {
            "mean": rounded(gaps.mean()),
            "median": rounded(gaps.median()),
        },
        "average_check_minor": rounded(in_period["value_minor"].mean(), 0),
        "average_check_trend": trend.to_dicts(),
        "check_depth": rounded(depth.mean()),
        "check_width": rounded(width.mean(), 3),
    }


def co_purchases(
    lines: pl.DataFrame, level: str = "sku", min_together: int = 2, limit: int = 100
) -> pl.DataFrame:
    """Pairs that sell together, per segment: in how many deals (baskets) both appear, the
    support (share of baskets), the confidence of each direction and the lift.

    `lines`: deal_id, segment, and the `level` column (sku or category)."""
    items = lines.select("deal_id", "segment", item=pl.col(level)).drop_nulls("item").unique()
    baskets = items.group_by("segment").agg(baskets=pl.col("deal_id").n_unique())
    counts = items.group_by("segment", "item").agg(count=pl.len())
    pairs = (
        items.join(items, on=["deal_id", "segment"], suffix="_b")
        .filter(pl.col("item") < pl.col("item_b"))
        .group_by("segment", "item", "item_b")
        .agg(together=pl.len())
        .filter(pl.col("together") >= min_together)
        .join(baskets, on="segment")
        .join(counts, on=["segment", "item"])
        .join(counts.rename({"item": "item_b", "count": "count_b"}), on=["segment", "item_b"])
    )
    return (
        pairs.select(
            "segment",
            pl.col("item").alias("a"),
            pl.col("item_b").alias("b"),
            "together",
            support=(pl.col("together") / pl.col("baskets")).round(4),
            confidence_a_to_b=(pl.col("together") / pl.col("count")).round(4),
            confidence_b_to_a=(pl.col("together") / pl.col("count_b")).round(4),
            lift=(
                pl.col("together") * pl.col("baskets") / (pl.col("count") * pl.col("count_b"))
            ).round(4),
        )
        .sort(
            ["segment", "together", "lift", "a", "b"], descending=[False, True, True, False, False]
        )
        .group_by("segment", maintain_order=True)
        .head(limit)
    )


def retention_payoff(marked: pl.DataFrame, lines: pl.DataFrame, spend: pl.DataFrame) -> list[dict]:
    """Per month: what keeping clients cost (discounts on re-orders: list price minus the price
    paid on the lines of repeat deals and add-ons; loyalty and retro bonuses paid) against
    what winning them cost (acquisition spend).

    `lines`: order_id, quantity, unit_price_minor, list_price_minor; `spend`: month (YYYY-MM),
    kind (acquisition, loyalty_bonus, retro_bonus), amount_minor."""
    reorders = marked.filter(~pl.col("first_deal") | pl.col("addon")).select(
        "order_id", month=pl.col("placed_at").dt.strftime("%Y-%m")
    )
    discounts = (
        lines.join(reorders, on="order_id", how="inner")
        .filter(pl.col("list_price_minor").is_not_null())
        .group_by("month")
        .agg(
            reorder_discounts_minor=(
                (pl.col("list_price_minor") - pl.col("unit_price_minor")).clip(0)
                * pl.col("quantity")
            )
            .sum()
            .round(0)
            .cast(pl.Int64)
        )
    )
    spent = spend.pivot(on="kind", index="month", values="amount_minor", aggregate_function="sum")
    for kind in ("acquisition", "loyalty_bonus", "retro_bonus"):
        if kind not in spent.columns:
            spent = spent.with_columns(pl.lit(0, dtype=pl.Int64).alias(kind))
    months = pl.concat([discounts.select("month"), spent.select("month")]).unique()
    table = (
        months.join(discounts, on="month", how="left")
        .join(spent, on="month", how="left")
        .fill_null(0)
        .with_columns(
            retention_minor=pl.col("reorder_discounts_minor")
            + pl.col("loyalty_bonus")
            + pl.col("retro_bonus")
        )
        .sort("month")
    )
    return [
        {
            "month": r["month"],
            "reorder_discounts_minor": r["reorder_discounts_minor"],
            "loyalty_bonuses_minor": r["loyalty_bonus"],
            "retro_bonuses_minor": r["retro_bonus"],
            "retention_minor": r["retention_minor"],
            "acquisition_minor": r["acquisition"],
            "retention_per_acquisition": ratio(r["retention_minor"], r["acquisition"]),
        }
        for r in table.to_dicts()
    ]
