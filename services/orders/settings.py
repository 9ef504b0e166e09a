"""Settings of the orders service: environment variables prefixed ORDERS_."""

from decimal import Decimal
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings, upstream_url


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERS_", extra="ignore")

    service_name: str = "orders"
    database_url: str = "postgresql+asyncpg://postgres@localhost/b2b_orders"
    accounts_url: str = upstream_url("accounts", "http://127.0.0.1:8001")
    catalog_url: str = upstream_url("catalog", "http://127.0.0.1:8002")
    pricing_url: str = upstream_url("pricing", "http://127.0.0.1:8003")

    credit_on_breach: Literal["refuse", "hold"] = Field(
        "refuse",
        description="When overdue debt or the credit limit is breached: refuse the order, or "
        "hold it for a sales manager's approval",
    )
    overdue_threshold_minor: int = Field(
        0, ge=0, description="Overdue receivables tolerated before credit is breached"
    )
    min_order_total_minor: int = Field(0, ge=0, description="Smallest order total accepted")
    checkout_stale_seconds: float = Field(
        120, description="A checkout unfinished this long was interrupted: the saga recovers it"
    )
    quote_max_discount_percent: Decimal = Field(
        Decimal(10),
        ge=0,
        le=100,
        description="How far below the client's own price a sales manager may quote (never "
        "below the SKU's floor)",
    )
    quote_max_validity_days: int = Field(90, ge=1, description="The longest an offer may stand")
