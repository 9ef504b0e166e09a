"""Sales analytics in polars: deals and add-ons, repeat-deal figures, co-purchases, the
pipeline's conversion, key accounts, the team's performance, loss reasons and the retention
payoff. Plain functions of frames a test builds by hand; the store loads the same shapes.

A **deal** is a client's order with the add-ons that followed it: an order that names an
earlier order (`adds_to_order_id`), or serves the same `need` as the client's previous order
of that need, placed within `window_days` of that order, adds to its deal; any other order
starts a new deal. Repeat figures count deals, so three add-ons to one need are one deal.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

DAY_US = 86_400_000_000

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


def _days(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    return (later - earlier).dt.total_microseconds() / DAY_US


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
            & _days(pl.col("placed_at"), pl.col("parent_at")).is_between(0, window)
        )
        .select("row", explicit=pl.col("parent_row"))
    )
    frame = (
        frame.with_columns(
            need_parent=pl.when(
                pl.col("need").is_not_null()
                & (
                    _days(
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
            {"from_deal": k, "clients": had, "next": went_on, "conversion": _ratio(went_on, had)}
        )
    gaps = (
        history.sort("client_id", "started_at")
        .with_columns(
            gap=_days(pl.col("started_at"), pl.col("started_at").shift(1).over("client_id"))
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
            "mean": _round(gaps.mean()),
            "median": _round(gaps.median()),
        },
        "average_check_minor": _round(in_period["value_minor"].mean(), 0),
        "average_check_trend": trend.to_dicts(),
        "check_depth": _round(depth.mean()),
        "check_width": _round(width.mean(), 3),
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
                    .select(_days(pl.col("at_next"), pl.col("at")).alias("days"))["days"]
                )
                row |= {
                    "next_stage": there["stage"],
                    "converted": went,
                    "conversion": _ratio(went, count),
                    "median_days_to_next": _round(days.median()),
                }
            rows.append(row)
        out.append({"group": key, "stages": rows})
    return out


def client_conversion(leads: pl.DataFrame, first_orders: pl.DataFrame) -> dict:
    """Lead → first order: `leads` (client_id, entered_at: its first move in the pipeline),
    `first_orders` (client_id, first_order_at)."""
    joined = leads.join(first_orders, on="client_id", how="left")
    converted = joined.filter(pl.col("first_order_at").is_not_null())
    days = converted.select(_days(pl.col("first_order_at"), pl.col("entered_at")).clip(0))
    return {
        "leads": leads.height,
        "first_orders": converted.height,
        "conversion": _ratio(converted.height, leads.height),
        "median_days_to_first_order": _round(days.to_series().median()),
    }


def key_accounts(
    sales: pl.DataFrame,
    marks: pl.DataFrame,
    *,
    level: str,
    threshold: float,
    per_manager: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Key clients and the managers carrying more than `per_manager` of them.

    `sales`: client_id, legal_name, currency, manager_id, department, revenue_minor (the
    window's sales); `marks`: client_id, criteria (a manager's reasons). A client is key when
    its share of sales within its level (company: the currency's sales; manager or department:
    their clients' sales) is over `threshold`, or a manager marked it."""
    groups = {"company": ["currency"], "manager": ["currency", "manager_id"]}.get(
        level, ["currency", "department"]
    )
    shares = sales.with_columns(
        share=pl.when(pl.col("revenue_minor").sum().over(groups) > 0).then(
            pl.col("revenue_minor") / pl.col("revenue_minor").sum().over(groups)
        )
    ).join(marks, on="client_id", how="left")
    clients = (
        shares.with_columns(
            key_by_share=pl.col("share").fill_null(0) > threshold,
            criteria=pl.col("criteria").fill_null([]),
        )
        .with_columns(key=pl.col("key_by_share") | (pl.col("criteria").list.len() > 0))
        .filter(pl.col("key"))
        .sort("share", "client_id", descending=[True, False], nulls_last=True)
    )
    managers = (
        clients.filter(pl.col("manager_id").is_not_null())
        .group_by("manager_id")
        .agg(key_accounts=pl.len())
        .with_columns(limit=pl.lit(per_manager), over_limit=pl.col("key_accounts") > per_manager)
        .sort("key_accounts", "manager_id", descending=[True, False])
    )
    return clients, managers


def team_performance(
    marked: pl.DataFrame,
    clients: pl.DataFrame,
    quotes: pl.DataFrame,
    plans: pl.DataFrame,
    start: datetime,
    end: datetime,
) -> list[dict]:
    """Per manager and period: clients, new clients (first order ever in the period), orders
    placed on behalf, quote conversion (offered → accepted, of the quotes offered in the
    period), average check, repeat deals, share of clients per ABC class, churned clients
    (churn risk raised now), and plan versus fact (ordered revenue of its clients).

    `marked`: mark_deals' orders; `clients`: client_id, manager_id, abc_revenue, churn_raised;
    `quotes`: client_id, offered_at, accepted_at; `plans`: manager_id, plan_minor (the
    period's months summed by the caller or not)."""
    who = clients.select("client_id", "manager_id")
    orders = marked.join(who, on="client_id", how="inner")
    in_period = orders.filter(pl.col("placed_at").is_between(start, end, closed="left"))
    first = orders.group_by("client_id", "manager_id").agg(first=pl.col("placed_at").min())
    new = first.filter(pl.col("first").is_between(start, end, closed="left"))
    offered = quotes.join(who, on="client_id", how="inner").filter(
        pl.col("offered_at").is_between(start, end, closed="left")
    )
    plan = plans.group_by("manager_id").agg(plan_minor=pl.col("plan_minor").sum())
    out = []
    for manager in sorted(who["manager_id"].drop_nulls().unique().to_list()):
        mine = clients.filter(pl.col("manager_id") == manager)
        my_orders = in_period.filter(pl.col("manager_id") == manager)
        my_quotes = offered.filter(pl.col("manager_id") == manager)
        accepted = my_quotes.filter(pl.col("accepted_at").is_not_null()).height
        revenue = int(my_orders["total_minor"].sum())
        my_plan = plan.filter(pl.col("manager_id") == manager)["plan_minor"]
        plan_minor = int(my_plan[0]) if len(my_plan) else None
        shares = mine.group_by("abc_revenue").agg(n=pl.len())
        out.append(
            {
                "manager_id": manager,
                "clients": mine.height,
                "new_clients": new.filter(pl.col("manager_id") == manager).height,
                "orders": my_orders.height,
                "orders_on_behalf": my_orders.filter(pl.col("on_behalf")).height,
                "quotes_offered": my_quotes.height,
                "quotes_accepted": accepted,
                "quote_conversion": _ratio(accepted, my_quotes.height),
                "revenue_minor": revenue,
                "average_check_minor": _round(my_orders["total_minor"].mean(), 0),
                "repeat_deals": my_orders.filter(~pl.col("addon") & (pl.col("deal_no") > 1)).height,
                "segment_shares": {
                    (r["abc_revenue"] or "none"): _ratio(r["n"], mine.height)
                    for r in shares.sort("abc_revenue", nulls_last=True).to_dicts()
                },
                "churned_clients": mine.filter(pl.col("churn_raised")).height,
                "plan_minor": plan_minor,
                "fact_minor": revenue,
                "completion": _ratio(revenue, plan_minor) if plan_minor else None,
            }
        )
    return out


def loss_reasons(reasons: pl.DataFrame, by: str) -> list[dict]:
    """Counts of each reason per group (segment or manager) and kind of loss.

    `reasons`: kind, reason_code and the `by` column."""
    frame = reasons.with_columns(pl.col(by).fill_null("unknown").cast(pl.String))
    counted = (
        frame.group_by(by, "reason_code")
        .agg(
            count=pl.len(),
            cancellations=(pl.col("kind") == "cancellation").sum(),
            returns=(pl.col("kind") == "return").sum(),
            complaints=(pl.col("kind") == "complaint").sum(),
            surveys=(pl.col("kind") == "survey").sum(),
        )
        .sort(by, "count", "reason_code", descending=[False, True, False])
    )
    return [{"group": r.pop(by), **r} for r in counted.to_dicts()]


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
            "retention_per_acquisition": _ratio(r["retention_minor"], r["acquisition"]),
        }
        for r in table.to_dicts()
    ]


def _ratio(part: float | None, whole: float | None) -> float | None:
    return round(part / whole, 4) if part is not None and whole else None


def _round(value: object, digits: int = 1) -> float | None:
    return round(float(value), digits) if value is not None else None  # type: ignore[arg-type]


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
        .filter(_days(pl.col("placed_at"), pl.col("shown_at")).is_between(0, days))
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
            {"step": name, "value": value, "of_first": _ratio(value, top)} for name, value in steps
        ],
        "conversion": _ratio(steps[-1][1], top),
    }
