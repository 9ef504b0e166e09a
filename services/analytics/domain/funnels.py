"""Conversion: the pipeline's stages, leads to first orders, and the financial, unit and upsell
funnels of a period."""

from __future__ import annotations

import polars as pl

from services.analytics.domain.measures import days_between, ratio, rounded


def pipeline_conversion(changes: pl.DataFrame, by: str | None = None) -> list[dict]:
    """Per group (source, manager, segment or all): for each stage, the clients that reached
    it (a company that skipped a stage passed it), those that went on to the next stage, the
    conversion and the median days between the two.

    `changes`: client_id, to_stage, position, changed_at and the `by` column."""
    group = by or "all"
    frame = changes if by else changes.with_columns(all=pl.lit("all"))
    frame = frame.with_columns(pl.col(group).fill_null("unknown").cast(pl.String))
    stages = (
        frame.sort("changed_at")
        .group_by("position")
        .agg(stage=pl.col("to_stage").last())
        .sort("position")
    )
    reached = frame.group_by(group, "client_id").agg(top=pl.col("position").max())
    first_at = frame.group_by("client_id", "position").agg(at=pl.col("changed_at").min())
    out = []
    positions = stages.to_dicts()
    for key in sorted(reached[group].unique().to_list()):
        clients = reached.filter(pl.col(group) == key)
        rows = []
        for here, there in zip(positions, [*positions[1:], None], strict=True):
            count = clients.filter(pl.col("top") >= here["position"]).height
            row = {"stage": here["stage"], "position": here["position"], "reached": count}
            if there is not None:
                went = clients.filter(pl.col("top") >= there["position"]).height
                days = (
                    first_at.filter(pl.col("position") == here["position"])
                    .join(
                        first_at.filter(pl.col("position") == there["position"]),
                        on="client_id",
                        suffix="_next",
                    )
                    .join(clients.select("client_id"), on="client_id")
                    .select(days_between(pl.col("at_next"), pl.col("at")).alias("days"))["days"]
                )
                row |= {
                    "next_stage": there["stage"],
                    "converted": went,
                    "conversion": ratio(went, count),
                    "median_days_to_next": rounded(days.median()),
                }
            rows.append(row)
        out.append({"group": key, "stages": rows})
    return out


def client_conversion(leads: pl.DataFrame, first_orders: pl.DataFrame) -> dict:
    """Lead → first order: `leads` (client_id, entered_at: its first move in the pipeline),
    `first_orders` (client_id, first_order_at)."""
    joined = leads.join(first_orders, on="client_id", how="left")
    converted = joined.filter(pl.col("first_order_at").is_not_null())
    days = converted.select(days_between(pl.col("first_order_at"), pl.col("entered_at")).clip(0))
    return {
        "leads": leads.height,
        "first_orders": converted.height,
        "conversion": ratio(converted.height, leads.height),
        "median_days_to_first_order": rounded(days.to_series().median()),
    }


def financial_funnel(quotes: pl.DataFrame, orders: pl.DataFrame, balance_minor: int) -> dict:
    """Quotes and invoices to money: offered → accepted (quotes offered in the period), then
    the orders placed → delivered (invoiced) → paid. Paid is what was delivered less what the
    clients still owe by ERP's receivables feed (it reports balances, not payments).

    `quotes`: offered_minor, accepted_minor; `orders`: total_minor, delivered_minor."""
    delivered = int(orders["delivered_minor"].fill_null(0).sum())
    steps = [
        ("quoted", int(quotes["offered_minor"].fill_null(0).sum())),
        ("accepted", int(quotes["accepted_minor"].fill_null(0).sum())),
        ("ordered", int(orders["total_minor"].sum())),
        ("delivered", delivered),
        ("paid", max(0, delivered - balance_minor)),
    ]
    return _funnel(steps, unit="minor")


def unit_funnel(quote_lines: pl.DataFrame, order_lines: pl.DataFrame) -> dict:
    """SKUs put in quotes → SKUs ordered: a quoted SKU counts as ordered when the order the
    quote became holds it. `quote_lines`: quote_id, sku, order_id; `order_lines`: order_id,
    sku."""
    ordered = quote_lines.join(
        order_lines.select("order_id", "sku").unique(), on=["order_id", "sku"], how="inner"
    )
    return _funnel([("quoted", quote_lines.height), ("ordered", ordered.height)], unit="skus")


def upsell_funnel(offers: pl.DataFrame, bought: pl.DataFrame, days: int) -> list[dict]:
    """Per kind (upsell, cross_sell): offers shown → accepted, an offer being accepted when the
    client ordered the offered SKU within `days` after it was shown.

    `offers`: id, client_id, kind, sku, shown_at; `bought`: client_id, sku, placed_at."""
    hits = (
        offers.join(bought, on=["client_id", "sku"], how="inner")
        .filter(days_between(pl.col("placed_at"), pl.col("shown_at")).is_between(0, days))
        .select("id")
        .unique()
    )
    out = []
    for kind in sorted(offers["kind"].unique().to_list()):
        mine = offers.filter(pl.col("kind") == kind)
        accepted = mine.join(hits, on="id", how="inner").height
        out.append({"kind": kind, **_funnel([("shown", mine.height), ("accepted", accepted)])})
    return out


def _funnel(steps: list[tuple[str, int]], unit: str = "count") -> dict:
    top = steps[0][1]
    return {
        "unit": unit,
        "steps": [
            {"step": name, "value": value, "of_first": ratio(value, top)} for name, value in steps
        ],
        "conversion": ratio(steps[-1][1], top),
    }
