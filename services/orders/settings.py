"""Settings of the orders service: environment variables prefixed ORDERS_."""

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERS_", extra="ignore")

    service_name: str = "orders"
    database_url: str = "postgresql+asyncpg://postgres@localhost/b2b_orders"

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
