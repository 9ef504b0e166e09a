"""The sales team's figures: key accounts and concentration by level, each manager's results
against plan, and why clients are lost."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from services.analytics.domain.measures import ratio, rounded


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
                "quote_conversion": ratio(accepted, my_quotes.height),
                "revenue_minor": revenue,
                "average_check_minor": rounded(my_orders["total_minor"].mean(), 0),
                "repeat_deals": my_orders.filter(~pl.col("addon") & (pl.col("deal_no") > 1)).height,
                "segment_shares": {
                    (r["abc_revenue"] or "none"): ratio(r["n"], mine.height)
                    for r in shares.sort("abc_revenue", nulls_last=True).to_dicts()
                },
                "churned_clients": mine.filter(pl.col("churn_raised")).height,
                "plan_minor": plan_minor,
                "fact_minor": revenue,
                "completion": ratio(revenue, plan_minor) if plan_minor else None,
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
