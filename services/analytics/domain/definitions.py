"""What the rules are told: every definition and threshold of a metric, by name. The service's
settings (`settings.py`, environment variables ANALYTICS_*) have these and more; a test may
pass anything that has them. Each is explained in the service's README."""

from __future__ import annotations

from typing import Protocol


class Definitions(Protocol):
    history_months: int
    # ABC / XYZ and the matrix
    abc_a_share: float
    abc_b_share: float
    abc_months: int
    xyz_months: int
    xyz_min_months: int
    xyz_x_max: float
    xyz_y_max: float
    matrix_actions_json: dict[str, str] | None
    # RFM, regularity, check tier, ladder
    rfm_months: int
    rfm_segments_json: list[dict[str, object]] | None
    regular_min_orders: int
    regular_max_gap_cv: float
    check_economy_below: float
    check_vip_from: float
    ladder_adherent_min_months: int
    ladder_adherent_min_wallet_share: float
    ladder_advocate_min_nps: float
    # churn, LTV, wallet, CRR
    churn_single_order_gap_days: int
    churn_gap_factor: float
    churn_trend_months: int
    churn_trend_min_orders: int
    churn_drop_share: float
    churn_raise_score: int
    ltv_lifetime_months: float | None
    wallet_months: int
    crr_period_months: int
    crr_periods: int
    # concentration and receivables
    key_client_share: float
    dependency_share: float
    critical_dependency_share: float
    concentration_alert_levels: list[float]
    frequent_buyer_min_orders: int
    frequent_buyer_days: int
    # cross-sell and reorders
    cross_sell_min_peers: int
    cross_sell_min_peer_share: float
    reorder_period_days: int
    reorder_min_months: int
