"""Settings of the analytics service: environment variables prefixed ANALYTICS_.

Every definition and threshold of a metric is here; services/analytics/README.md explains
each one. The rules are plain Python in `domain/`, which takes these settings as an argument.
"""

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings, upstream_url


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ANALYTICS_", extra="ignore")

    service_name: str = "analytics"
    database_url: str = "postgresql+asyncpg://postgres@localhost/b2b_analytics"
    accounts_url: str = upstream_url("accounts", "http://127.0.0.1:8001")
    pricing_url: str = upstream_url("pricing", "http://127.0.0.1:8003")

    recompute_interval_seconds: float = Field(
        3600, ge=0, description="Full recompute of every segment this often (0: only on request)"
    )
    dirty_poll_seconds: float = Field(
        0.5, gt=0, description="How often the clients touched by events are recomputed"
    )
    dirty_batch_size: int = Field(
        5000, ge=1, description="Clients touched by events recomputed in one polars pass"
    )
    base_move_share: float = Field(
        0.02,
        ge=0,
        lt=1,
        description="Recompute after events: the whole base is recomputed instead when a "
        "currency's sales total or number of buyers moved by more than this share since the "
        "base statistics were computed",
    )
    history_months: int = Field(
        24, ge=1, description="Months of orders the metrics look at (LTV, gaps, cohorts)"
    )
    # ABC
    abc_a_share: float = Field(
        0.80, gt=0, lt=1, description="ABC: A = clients making the first this share of the total"
    )
    abc_b_share: float = Field(
        0.95, gt=0, lt=1, description="ABC: B = the clients after A up to this cumulative share"
    )
    abc_months: int = Field(12, ge=1, description="ABC: months of revenue and margin ranked")
    # XYZ
    xyz_months: int = Field(12, ge=2, description="XYZ: months of purchases whose variation counts")
    xyz_min_months: int = Field(
        3, ge=2, description="XYZ: fewer months since the first order leave the client unclassified"
    )
    xyz_x_max: float = Field(
        0.10, ge=0, description="XYZ: X when the coefficient of variation <= this"
    )
    xyz_y_max: float = Field(0.25, ge=0, description="XYZ: Y when <= this, Z above")
    matrix_actions_json: dict[str, str] | None = Field(
        None,
        description="ABC/XYZ matrix: JSON object cell -> recommended action, overriding the "
        "built-in table (see services/analytics/README.md)",
    )
    # RFM
    rfm_months: int = Field(12, ge=1, description="RFM: months of orders counted in F and M")
    rfm_segments_json: list[dict[str, object]] | None = Field(
        None,
        description="RFM: JSON list of named segments {name, r:[min,max], f:[min,max], "
        "m:[min,max]}, first match wins, overriding the built-in table",
    )
    # Regularity, check tier, ladder
    regular_min_orders: int = Field(
        4, ge=2, description="Regularity: orders needed to be a regular buyer"
    )
    regular_max_gap_cv: float = Field(
        0.5, ge=0, description="Regularity: regular when the gaps between orders vary at most this"
    )
    check_economy_below: float = Field(
        0.5, gt=0, description="Check tier: economy below this multiple of the base's median check"
    )
    check_vip_from: float = Field(
        2.0, gt=0, description="Check tier: VIP from this multiple of the base's median check"
    )
    ladder_adherent_min_months: int = Field(
        12, ge=1, description="Ladder: months a regular client has bought to be an adherent"
    )
    ladder_adherent_min_wallet_share: float = Field(
        0.5, ge=0, le=1, description="Ladder: share of wallet that makes a regular an adherent"
    )
    ladder_advocate_min_nps: float = Field(
        9, ge=0, le=10, description="Ladder: an adherent whose average NPS score is >= this"
    )
    # Churn
    churn_gap_factor: float = Field(
        2.0, gt=1, description="Churn: at risk after this many times the client's median gap"
    )
    churn_single_order_gap_days: int = Field(
        90, ge=1, description="Churn: the usual gap assumed for a client with one order"
    )
    churn_trend_months: int = Field(
        3,
        ge=1,
        description="Churn: purchases of the last this many months (x 30.4375 days, ending now) "
        "compared with as many before them",
    )
    churn_trend_min_orders: int = Field(
        3,
        ge=1,
        description="Churn: fewest orders in the earlier window for the trend to judge a client "
        "(fewer: its gap alone does)",
    )
    churn_drop_share: float = Field(
        0.5, gt=0, le=1, description="Churn: at risk when purchases fell by this share"
    )
    churn_raise_score: int = Field(
        50, ge=1, le=100, description="Churn: score from which the risk is raised (an event)"
    )
    # LTV, wallet, key clients
    ltv_lifetime_months: float | None = Field(
        None, description="LTV: client lifetime T in months; empty: the base's average lifetime"
    )
    wallet_months: int = Field(
        12, ge=1, description="Share of wallet: months of revenue against the yearly potential"
    )
    potential_card_key: str = Field(
        "purchase_potential_minor",
        description="Client card field holding the yearly purchase potential in minor units",
    )
    size_card_key: str = Field("size", description="Client card field holding the client's size")
    key_client_share: float = Field(
        0.10, gt=0, lt=1, description="Key client: over this share of sales"
    )
    dependency_share: float = Field(
        0.20, gt=0, lt=1, description="Concentration: over this share is a dependency risk"
    )
    critical_dependency_share: float = Field(
        0.50, gt=0, le=1, description="Concentration: over this share is a critical dependency"
    )
    concentration_alert_levels: list[float] = Field(
        [0.2, 0.3, 0.4, 0.5],
        description="Concentration alerts: an event when one client's share of sales passes "
        "each of these (JSON list)",
    )
    key_accounts_per_manager: int = Field(
        3, ge=1, description="Key accounts: most key clients one manager should carry"
    )
    # Sales: deals, add-ons, offers
    addon_window_days: int = Field(
        14,
        ge=0,
        description="Add-on: an order naming an earlier order, or for the same need, within "
        "this many days of it adds to that deal rather than being a repeat deal",
    )
    offer_accept_days: int = Field(
        30, ge=1, description="Upsell funnel: an offer counts as accepted when ordered within"
    )
    # Retention
    crr_period_months: int = Field(
        3,
        ge=1,
        description="Retention rate: months in one calendar period (1, 2, 3, 4, 6 or 12: "
        "periods start in January)",
    )
    crr_periods: int = Field(4, ge=1, description="Retention rate: periods in the summary")
    # Receivables behaviour
    frequent_buyer_min_orders: int = Field(
        3,
        ge=1,
        description="Receivables: orders in the last days (below) that make a frequent buyer",
    )
    frequent_buyer_days: int = Field(
        90, ge=1, description="Receivables: the days in which a frequent buyer's orders are counted"
    )
    # Cross-sell and reorder
    cross_sell_min_peer_share: float = Field(
        0.3, gt=0, le=1, description="Cross-sell: categories at least this share of peers buy"
    )
    cross_sell_min_peers: int = Field(
        3, ge=1, description="Cross-sell: fewest peers (same industry and type) to compare with"
    )
    reorder_period_days: int = Field(30, ge=1, description="Reorder list: the period it covers")
    reorder_min_months: int = Field(
        3, ge=1, description="Reorder list: months a SKU was bought in to be suggested"
    )
    # Alerts to clients (services/analytics/usecases/: key_sku_alerts, price_checks, cross_sell_offers)
    regular_sku_months: int = Field(
        6, ge=1, description="Price alerts: months looked at for the SKUs a client buys regularly"
    )
    regular_sku_min_months: int = Field(
        3, ge=1, description="Price alerts: a SKU bought in at least this many of those months"
    )
    price_move_min_percent: float = Field(
        5.0, gt=0, description="Price alerts: told when a price moved at least this percent"
    )
    price_check_poll_seconds: float = Field(
        2.0, gt=0, description="How often queued price changes are compared with what was paid"
    )
    cross_sell_offer_every_days: int = Field(
        30, ge=1, description="Cross-sell offers: at most one per client in this many days"
    )
    cross_sell_offer_interval_seconds: float = Field(
        86400, ge=0, description="Cross-sell offers: how often the job runs (0: never)"
    )
    cross_sell_offer_suggestions: int = Field(
        3, ge=1, description="Cross-sell offers: categories suggested in one offer"
    )

    @field_validator("crr_period_months")
    @classmethod
    def _calendar_periods(cls, months: int) -> int:
        if 12 % months:
            raise ValueError("must divide the year: 1, 2, 3, 4, 6 or 12")
        return months
