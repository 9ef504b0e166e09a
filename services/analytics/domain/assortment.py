"""What a client could buy but does not (assortment gaps against its peers), and what it will
likely need next (a reorder list from its history and each SKU's predictability for it)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import polars as pl

from services.analytics.domain.definitions import Definitions
from services.analytics.domain.facts import DAYS_PER_MONTH, month_index, month_of


@dataclass
class PeerPurchases:
    """What a client's peers bought, counted by the database: how many peers bought anything,
    how many bought each category and each SKU; and the categories the client itself bought."""

    peers: int
    categories: pl.DataFrame  # category, buyers
    skus: pl.DataFrame  # category, sku, peer_clients
    own_categories: set[str]


def assortment_gaps(
    bought: PeerPurchases, peer_label: str, d: Definitions, top_skus: int = 3
) -> list[dict[str, Any]]:
    """A gap is a category at least `cross_sell_min_peer_share` of the peers buy and the client
    does not; ranked by that share; with the SKUs most peers buy in it. Fewer peers than
    `cross_sell_min_peers`: no gaps (too few to compare with)."""
    if bought.peers < d.cross_sell_min_peers:
        return []
    shares = (
        bought.categories.with_columns(peer_share=pl.col("buyers") / bought.peers)
        .filter(
            pl.col("peer_share") >= d.cross_sell_min_peer_share,
            ~pl.col("category").is_in(sorted(bought.own_categories)),
        )
        .sort(["peer_share", "category"], descending=[True, False])
    )
    skus = (
        bought.skus.sort(["category", "peer_clients", "sku"], descending=[False, True, False])
        .group_by("category", maintain_order=True)
        .head(top_skus)
    )
    gaps = []
    for row in shares.iter_rows(named=True):  # one per gap category, not per client
        share = row["peer_share"]
        gaps.append(
            {
                "category": row["category"],
                "peer_share": round(share, 4),
                "reason": f"{round(share * 100)} % of {peer_label} also buy {row['category']}",
                "skus": skus.filter(pl.col("category") == row["category"])
                .select("sku", "peer_clients")
                .to_dicts(),
            }
        )
    return gaps


def reorder_list(lines: pl.DataFrame, as_of: datetime, d: Definitions) -> list[dict[str, Any]]:
    """`lines`: the client's counted order lines (sku, placed_at, quantity).

    Per SKU over the complete `xyz_months` months (from the SKU's first purchase by this
    client): months bought, mean monthly quantity and its coefficient of variation. SKUs bought
    in at least `reorder_min_months` months and predictable (X or Y) are proposed, with the
    mean monthly quantity scaled to `reorder_period_days`, rounded up to 3 decimals."""
    end = month_of(as_of) - 1
    start = end - d.xyz_months + 1
    monthly = (
        lines.lazy()
        .with_columns(month=month_index(pl.col("placed_at")))
        .filter(pl.col("month").is_between(start, end))
        .group_by("sku", "month")
        .agg(q=pl.col("quantity").sum())
        .group_by("sku")
        .agg(
            first=pl.col("month").min(),
            months_bought=pl.len(),
            q_sum=pl.col("q").sum(),
            q_sumsq=(pl.col("q") ** 2).sum(),
        )
        .with_columns(n=pl.lit(end) - pl.col("first") + 1)
        .with_columns(mean=pl.col("q_sum") / pl.col("n"))
        .with_columns(
            cv=(pl.col("q_sumsq") / pl.col("n") - pl.col("mean") ** 2).clip(lower_bound=0).sqrt()
            / pl.col("mean")
        )
        .with_columns(
            xyz=pl.when(pl.col("cv") <= d.xyz_x_max)
            .then(pl.lit("X"))
            .when(pl.col("cv") <= d.xyz_y_max)
            .then(pl.lit("Y"))
            .otherwise(pl.lit("Z"))
        )
        .filter(pl.col("months_bought") >= d.reorder_min_months, pl.col("xyz") != "Z")
        .sort(["xyz", "mean", "sku"], descending=[False, True, False])
        .collect()
    )
    factor = d.reorder_period_days / DAYS_PER_MONTH
    return [
        {
            "sku": row["sku"],
            "xyz": row["xyz"],
            "months_bought": row["months_bought"],
            "average_monthly_quantity": f"{row['mean']:.3f}",
            "quantity": str(
                (Decimal(math.ceil(row["mean"] * factor * 1000)) / 1000).quantize(Decimal("0.001"))
            ),
        }
        for row in monthly.iter_rows(named=True)
    ]
